"""Choosing and creating the U-Net backend, and how the restorer shares it between threads."""
import subprocess
import sys
import threading

import numpy as np
import pytest

from artrestore import restorer as restorer_module
from artrestore.dl import backends
from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY, hold_change, hold_colour
from artrestore.errors import DeepLearningUnavailable, MissingDependency
from artrestore.restorer import HybridRestorer


def test_check_backend_accepts_local_and_grpc_only():
    assert backends.check_backend("local") == "local"
    assert backends.check_backend("grpc://localhost:8500") == "grpc://localhost:8500"
    for bad in ("remote", "grpc://", "http://x:1", "", None):
        with pytest.raises(ValueError, match="dl_backend must be"):
            backends.check_backend(bad)
    with pytest.raises(ValueError, match="dl_backend must be"):
        HybridRestorer(use_dl=False, dl_backend="tcp://x:1")


def test_missing_keras_makes_the_local_backend_unavailable_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # what `import keras` sees when it is not installed
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # and the ONNX runtime the local backend tries first
    with pytest.raises(DeepLearningUnavailable, match=r'pip install "artrestore\[dl\]"') as caught:
        backends.make_backend("local")
    assert isinstance(caught.value.__cause__, MissingDependency)


def test_missing_grpcio_makes_the_grpc_backend_unavailable():
    code = ("import sys; sys.modules['grpc'] = None\n"
            "from artrestore.dl.backends import make_backend\n"
            "from artrestore.errors import DeepLearningUnavailable\n"
            "try:\n    make_backend('grpc://127.0.0.1:1')\nexcept DeepLearningUnavailable as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'pip install "artrestore[serve]"' in result.stdout


class SlowBackend:
    """Stands in for a model server: each restore waits until ``expected`` calls are inside at once."""

    def __init__(self, expected):
        self.barrier = threading.Barrier(expected, timeout=10)
        self.calls = 0

    def restore(self, image):
        self.calls += 1
        self.barrier.wait()  # BrokenBarrierError if the restorer serialised the calls
        return 255 - image


def test_concurrent_restores_reach_the_backend_together_and_it_is_created_once(monkeypatch):
    created = []

    def fake_make_backend(spec, **options):
        created.append(spec)
        return SlowBackend(4)

    monkeypatch.setattr(restorer_module, "make_backend", fake_make_backend)
    r = HybridRestorer(dl_backend="grpc://fake:1", dl_fallback="error")
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    results, errors = [], []

    def work():
        try:
            results.append(r.restore(image, "dl"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(timeout=30) for t in threads]
    assert not errors, errors
    assert created == ["grpc://fake:1"]
    for restored, info in results:
        # The backend's output, less what the U-Net's holds take back (the shares are reported to 3
        # decimals: 1 level of rounding).
        held = hold_colour(image, 255 - image, info["params"][COLOUR_KEEP_KEY])
        expected = hold_change(image, held, info["params"][CHANGE_KEEP_KEY])
        assert np.abs(restored.astype(int) - expected).max() <= 1
        assert info["method"] == "deep_learning" and info["params"]["backend"] == "grpc://fake:1"


def test_backend_errors_fall_back_to_ml_guided(monkeypatch):
    class Down:
        def restore(self, image):
            raise DeepLearningUnavailable("model server: UNAVAILABLE: connection refused")

    monkeypatch.setattr(restorer_module, "make_backend", lambda spec, **options: Down())
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    restored, info = HybridRestorer(dl_backend="grpc://fake:1").restore(image, "dl")
    assert info["method"] == "ml_guided" and "UNAVAILABLE" in info["fallback"]["reason"]
    with pytest.raises(DeepLearningUnavailable):
        HybridRestorer(dl_backend="grpc://fake:1", dl_fallback="error").restore(image, "dl")
