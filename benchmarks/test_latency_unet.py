"""Tracked latency of the U-Net path: in process (TensorFlow) and over gRPC to the in-repo
TF-Serving stand-in (same weights, a separate process on loopback), through ``HybridRestorer``.

Per tile: a 256 x 256 image is one tile (plus its thumbnail for the global branch); this is in the
quick gate as the pair gRPC / in-process. Per 1024 x 1024 image (25 tiles) it takes seconds on a
2-core CPU, so those two are marked slow and recorded only by ``scripts/bench.sh record``.
Times are seconds per image.
"""
import socket
import subprocess
import sys
import time

import pytest

import artrestore

pytest.importorskip("tensorflow")


def _image(photo_at, size):
    return artrestore.synthesize_damage(photo_at(size), "severe", seed=0)[0]


@pytest.fixture(scope="module")
def grpc_target(tmp_path_factory):
    """The stand-in serving the bundled U-Net with server-side batching, as ``artrestore serve`` runs it."""
    from artrestore.serving import TFServingClient, export_for_serving

    base = tmp_path_factory.mktemp("served")
    export_for_serving(None, base)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "artrestore.cli", "serve", "--model-dir", str(base),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=60)
    deadline = time.monotonic() + 180
    while not client.healthy():
        assert proc.poll() is None and time.monotonic() < deadline, "the serving stand-in did not start"
        time.sleep(0.5)
    client.close()
    yield f"grpc://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def _restore_with(benchmark, restorer, image, rounds):
    _, info = restorer.restore(image, strategy="dl")  # loads the model / opens the channel
    assert info["method"] == "deep_learning" and "fallback" not in info, info.get("fallback")
    benchmark.pedantic(restorer.restore, args=(image,), kwargs={"strategy": "dl"}, rounds=rounds, warmup_rounds=1)


def test_unet_tile_in_process(benchmark, photo_at):
    benchmark.group = "U-Net one 256^2 tile"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend="local"), _image(photo_at, 256), rounds=7)


def test_unet_tile_grpc(benchmark, photo_at, grpc_target):
    benchmark.group = "U-Net one 256^2 tile"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend=grpc_target), _image(photo_at, 256), rounds=7)


@pytest.mark.slow
def test_unet_1024_in_process(benchmark, photo_at):
    benchmark.group = "U-Net 1024^2 image (25 tiles)"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend="local"), _image(photo_at, 1024), rounds=3)


@pytest.mark.slow
def test_unet_1024_grpc(benchmark, photo_at, grpc_target):
    benchmark.group = "U-Net 1024^2 image (25 tiles)"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend=grpc_target), _image(photo_at, 1024), rounds=3)
