"""Tracked latency of the U-Net path: in process (TensorFlow) and over gRPC to the in-repo
TF-Serving stand-in (same weights, a separate process on loopback), through ``HybridRestorer``.

Per tile: a 256 x 256 image is one tile (plus its thumbnail for the global branch); the quick gate
has ``test_unet_tile_grpc``, whose rounds time the tile in process and then over gRPC. The
in-process tile on its own and the 1024 x 1024 image (25 tiles, seconds on a 2-core CPU) are
marked slow and recorded by ``scripts/bench.sh record``. Times are seconds per image.
"""
import importlib.util
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import artrestore

HAVE_TF = importlib.util.find_spec("tensorflow") is not None
needs_tf = pytest.mark.skipif(not HAVE_TF, reason="TensorFlow is not installed (extra 'dl')")


def _image(photo_at, size):
    return artrestore.synthesize_damage(photo_at(size), "severe", seed=0)[0]


def start_server() -> tuple[subprocess.Popen, int, pathlib.Path]:
    """Export the bundled U-Net and serve it with the stand-in (server-side batching on, as
    ``artrestore serve`` runs it), all in one background process; (process, port, model folder).
    conftest.py calls this right after collection so its TensorFlow start-up overlaps the other
    benchmarks (the CPU-timed ones do not see it; the others compare within a round)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="artrestore-bench-served-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from artrestore.serving.export import export_for_serving; "
            "from artrestore.serving.standin import serve_forever; "
            "export_for_serving(None, sys.argv[1]); serve_forever(sys.argv[1], port=int(sys.argv[2]))")
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, str(folder / "models"), str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
    return proc, port, folder


def wait_until_serving(proc: subprocess.Popen, port: int, folder: pathlib.Path, timeout_s: float = 300) -> None:
    """Return once ``start_server``'s stand-in reports a model AVAILABLE; RuntimeError with the end
    of its log (the process killed) when it exits or takes longer than ``timeout_s``."""
    from artrestore.serving.client import TFServingClient

    client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=60)
    deadline = time.monotonic() + timeout_s
    try:
        while not client.healthy():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = (folder / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the serving stand-in did not start:\n{log}")
            time.sleep(0.2)
    finally:
        client.close()


@pytest.fixture(scope="module")
def grpc_target(pytestconfig):
    proc, port, folder = getattr(pytestconfig, "artrestore_server", None) or start_server()
    try:
        wait_until_serving(proc, port, folder)
    except RuntimeError as error:
        pytest.fail(str(error))
    yield f"grpc://127.0.0.1:{port}"
    proc.kill()  # a benchmark server: no need for the graceful (seconds long) TensorFlow shutdown
    proc.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


def _restore_with(benchmark, restorer, image, rounds, target=None, setup=None, warmup_rounds=1):
    _, info = restorer.restore(image, strategy="dl")  # loads the model / opens the channel
    assert info["method"] == "deep_learning" and "fallback" not in info, info.get("fallback")
    target = target or (lambda: restorer.restore(image, strategy="dl"))
    benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=warmup_rounds)


@needs_tf
@pytest.mark.slow  # the in-process figure is also in each round of test_unet_tile_grpc
def test_unet_tile_in_process(benchmark, photo_at):
    benchmark.group = "U-Net one 256^2 tile"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend="local"), _image(photo_at, 256), rounds=7)


@needs_tf
def test_unet_tile_grpc(benchmark, photo_at, grpc_target):
    """Timed: the tile over gRPC. Each round first restores it in process too (timed here), so the
    gate's gRPC / in-process ratio compares calls made back to back under the same machine load.
    Both run one view of the U-Net: the ratio is the cost of serving, not of the served profile's
    self-ensemble (``dl.ensemble``: eight views by default over gRPC, one in process)."""
    benchmark.group = "U-Net one 256^2 tile"
    image, local = _image(photo_at, 256), artrestore.HybridRestorer(dl_backend="local", dl_views=1)
    local.restore(image, strategy="dl")
    in_process, grpc = [], []

    def timed(restorer, into):
        start = time.perf_counter()
        restorer.restore(image, strategy="dl")
        into.append(time.perf_counter() - start)

    remote = artrestore.HybridRestorer(dl_backend=grpc_target, dl_views=1)
    _restore_with(benchmark, remote, image, rounds=7, target=lambda: timed(remote, grpc),
                  setup=lambda: timed(local, in_process))
    benchmark.extra_info["in_process_s"], benchmark.extra_info["grpc_s"] = in_process[-7:], grpc[-7:]


@needs_tf
@pytest.mark.slow
def test_unet_1024_in_process(benchmark, photo_at):
    benchmark.group = "U-Net 1024^2 image (25 tiles)"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend="local"), _image(photo_at, 1024), rounds=3,
                  warmup_rounds=0)


@needs_tf
@pytest.mark.slow
def test_unet_1024_grpc(benchmark, photo_at, grpc_target):
    benchmark.group = "U-Net 1024^2 image (25 tiles)"
    _restore_1024_over_grpc(benchmark, photo_at, grpc_target, views=1)


@needs_tf
@pytest.mark.slow
def test_unet_1024_grpc_eight_views(benchmark, photo_at, grpc_target):
    """The served profile as it runs by default: eight dihedral views per tile (``dl.ensemble``)."""
    _restore_1024_over_grpc(benchmark, photo_at, grpc_target, views=8)


def _restore_1024_over_grpc(benchmark, photo_at, grpc_target, views: int) -> None:
    benchmark.group = "U-Net 1024^2 image (25 tiles)"
    _restore_with(benchmark, artrestore.HybridRestorer(dl_backend=grpc_target, dl_views=views),
                  _image(photo_at, 1024), rounds=3, warmup_rounds=0)
