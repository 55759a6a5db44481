"""Tracked latency of the paths users feel, each beside a named peer timed in the same run.

What ``scripts/bench.sh`` records into the history and what the regression gate
(``benchmarks/gate.py``) checks: the gate divides an artrestore time by its peer's time from the
same run, so a busy machine slows both and the ratio holds. Only public APIs are timed
(``artrestore.analyze``, ``artrestore.classical``, ``artrestore.router``, ``HybridRestorer``);
the peers are the ones of ``test_core_speed.py`` / ``test_pipeline_speed.py``, imported from there.
Times are seconds per call; images are 1024 x 1024 RGB uint8 (the astronaut photo, resized).
The U-Net and gRPC paths are in ``test_latency_unet.py``.
"""
import resource
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

import artrestore
from artrestore import classical
from artrestore.router import Router
from test_core_speed import SIGMA, STRENGTH, opencv_color_correct, scipy_features
from test_pipeline_speed import light_image, sklearn_router  # noqa: F401 (fixture)

SIZE = 1024
# Single-threaded calls in this process are timed in process CPU time: on a shared machine the
# wall time of a 20 ms call includes other processes' time slices (the peers' minimum moved 2-3x
# with load while their CPU time held); on an idle machine the two agree. Fresh processes are
# timed in their own CPU time (children_cpu_seconds); threads and the U-Net in wall time.
cpu_timed = pytest.mark.benchmark(timer=time.process_time)


@pytest.fixture(scope="module")
def photo(photo_at):
    return photo_at(SIZE)


# ------------------------------------------------------------------------------ analysis
@cpu_timed
def test_analysis_artrestore(benchmark, photo):
    benchmark.group = "analysis 1024^2"
    benchmark(artrestore.analyze, photo)


@cpu_timed
def test_analysis_scipy_peer(benchmark, photo):
    benchmark.group = "analysis 1024^2"
    benchmark(scipy_features, photo)


# -------------------------------------------------------------------- colour + sharpen
def opencv_color_sharpen(image):
    """Peer: OpenCV colour LUT, then GaussianBlur + addWeighted (three passes)."""
    corrected = opencv_color_correct(image)
    return cv2.addWeighted(corrected, 1 + STRENGTH, cv2.GaussianBlur(corrected, (0, 0), SIGMA), -STRENGTH, 0)


@cpu_timed
def test_fused_artrestore(benchmark, photo):
    benchmark.group = "colour + sharpen 1024^2"
    benchmark(classical.color_correct_sharpen, photo, True, SIGMA, STRENGTH)


@cpu_timed
def test_fused_opencv_peer(benchmark, photo):
    benchmark.group = "colour + sharpen 1024^2"
    benchmark(opencv_color_sharpen, photo)


# ----------------------------------------------------------------------------- routing
@pytest.fixture(scope="module")
def features(photo):
    return artrestore.analyze_vector(photo)


@cpu_timed
def test_route_artrestore(benchmark, features):
    benchmark.group = "route one image (100 trees)"
    benchmark(Router.load().predict, features)


@cpu_timed
def test_route_sklearn_peer(benchmark, features, sklearn_router):  # noqa: F811
    benchmark.group = "route one image (100 trees)"
    benchmark(sklearn_router.predict, features[None].astype(np.float64))


# ------------------------------------------------------------------ auto, light damage
@pytest.fixture(scope="module")
def light(photo_at):
    return light_image(photo_at, SIZE)


@cpu_timed
def test_auto_light_artrestore(benchmark, light):
    """analysis + routing + classical restore, in process, through the public restorer."""
    benchmark.group = "auto 1024^2 light damage"
    restorer = artrestore.HybridRestorer(use_dl=False)
    assert restorer.restore(light)[1]["method"] != "deep_learning"
    benchmark(restorer.restore, light)


@cpu_timed
def test_auto_light_opencv_peer(benchmark, light, sklearn_router):  # noqa: F811
    """The same three steps with scipy.fft, scikit-learn (the same forest) and OpenCV."""
    benchmark.group = "auto 1024^2 light damage"

    # The peer computes 12 of the 14 features; two zeros fill the rest so the same forest routes.
    def run():
        sklearn_router.predict(np.concatenate([scipy_features(light), np.zeros(2)])[None])
        return opencv_color_sharpen(light)

    benchmark(run)


# ------------------------------------------------------------------ 2 threads vs 1
CALLS = 8  # per thread


def _ours(image):
    artrestore.analyze(image)
    classical.color_correct_sharpen(image, True, SIGMA, STRENGTH)


def _peer(image):
    """A peer known to release the GIL: OpenCV's blur + addWeighted (single-threaded, see conftest)."""
    cv2.addWeighted(image, 1 + STRENGTH, cv2.GaussianBlur(image, (0, 0), SIGMA), -STRENGTH, 0)


def _in_threads(call, image, n_threads):
    """2 * CALLS calls of ``call`` split over ``n_threads`` Python threads (the same work for 1 or 2); seconds."""
    def work():
        for _ in range(2 * CALLS // n_threads):
            call(image)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    start = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return time.perf_counter() - start


def test_two_threads_artrestore(benchmark, photo):
    """Two Python threads over one doing the same work (analysis + fused colour + sharpen, 1024^2).

    Timed: 16 calls in two threads. Each round first runs, timed here, the same 16 calls in one
    thread and OpenCV's GIL-free peer in one and two threads, so the four figures of a round see
    the same machine load; ``extra_info`` keeps them per round (seconds). On an idle 2-core
    machine both two-thread times are about half the one-thread ones; on a busy one both are not,
    which is why the gate compares artrestore's scaling with the peer's.
    """
    benchmark.group = "16 x (analysis + fused) 1024^2, 2 threads"
    rounds = {"one_thread_s": [], "two_threads_s": [], "peer_one_thread_s": [], "peer_two_threads_s": []}

    def setup():
        rounds["one_thread_s"].append(_in_threads(_ours, photo, 1))
        rounds["peer_one_thread_s"].append(_in_threads(_peer, photo, 1))
        rounds["peer_two_threads_s"].append(_in_threads(_peer, photo, 2))

    benchmark.pedantic(lambda: rounds["two_threads_s"].append(_in_threads(_ours, photo, 2)),
                       setup=setup, rounds=7, warmup_rounds=1)
    benchmark.extra_info.update({key: values[-7:] for key, values in rounds.items()})


# --------------------------------------------------------------------- fresh process
def children_cpu_seconds() -> float:
    """A clock for pytest-benchmark: CPU seconds (user + system) of this process's finished
    children. It advances only when a child is reaped, by that child's CPU time, so a round that
    runs one interpreter measures that interpreter's CPU time, whatever else the machine runs (the
    wall-time minimum of these ~0.1-0.5 s processes moved 2x between runs on the shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


child_cpu_timed = pytest.mark.benchmark(timer=children_cpu_seconds)


def _python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.fixture(scope="module")
def light_npy(light, tmp_path_factory):
    path = tmp_path_factory.mktemp("startup") / "light.npy"
    np.save(path, light)
    return str(path)


@child_cpu_timed
def test_import_artrestore(benchmark):
    """A fresh interpreter that imports artrestore (includes interpreter start-up)."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=("import artrestore",), rounds=7, warmup_rounds=1)


@child_cpu_timed
def test_bare_python_peer(benchmark):
    """The floor of ``import artrestore``: a fresh interpreter that imports nothing (the package is lazy)."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=("pass",), rounds=7, warmup_rounds=1)


@child_cpu_timed
def test_first_image_artrestore(benchmark, light_npy):
    """A fresh interpreter: import, build the restorer, restore one 1024^2 light image."""
    benchmark.group = "fresh process"
    code = ("import numpy, artrestore; "
            f"artrestore.HybridRestorer(use_dl=False).restore(numpy.load({light_npy!r}))")
    benchmark.pedantic(_python, args=(code,), rounds=7, warmup_rounds=1)


@child_cpu_timed
def test_import_numpy_cv2_peer(benchmark, light_npy):
    """The floor of the first image: a fresh interpreter importing NumPy and OpenCV and reading the image."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=(f"import numpy, cv2; numpy.load({light_npy!r})",), rounds=7, warmup_rounds=1)
