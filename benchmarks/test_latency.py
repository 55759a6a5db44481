"""Tracked latency of the paths users feel, each beside a named peer timed in the same run.

What ``scripts/bench.sh`` records into the history and what the regression gate
(``benchmarks/gate.py``) checks: the gate divides an artrestore time by its peer's time from the
same run, so a busy machine slows both and the ratio holds. Only public APIs are timed
(``artrestore.analyze``, ``artrestore.classical``, ``artrestore.router``, ``HybridRestorer``);
the peers are the ones of ``test_core_speed.py`` / ``test_pipeline_speed.py``, imported from there.
Times are seconds per call; images are 1024 x 1024 RGB uint8 (the astronaut photo, resized).
The U-Net and gRPC paths are in ``test_latency_unet.py``.
"""
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


@pytest.fixture(scope="module")
def photo(photo_at):
    return photo_at(SIZE)


# ------------------------------------------------------------------------------ analysis
def test_analysis_artrestore(benchmark, photo):
    benchmark.group = "analysis 1024^2"
    benchmark(artrestore.analyze, photo)


def test_analysis_scipy_peer(benchmark, photo):
    benchmark.group = "analysis 1024^2"
    benchmark(scipy_features, photo)


# -------------------------------------------------------------------- colour + sharpen
def opencv_color_sharpen(image):
    """Peer: OpenCV colour LUT, then GaussianBlur + addWeighted (three passes)."""
    corrected = opencv_color_correct(image)
    return cv2.addWeighted(corrected, 1 + STRENGTH, cv2.GaussianBlur(corrected, (0, 0), SIGMA), -STRENGTH, 0)


def test_fused_artrestore(benchmark, photo):
    benchmark.group = "colour + sharpen 1024^2"
    benchmark(classical.color_correct_sharpen, photo, True, SIGMA, STRENGTH)


def test_fused_opencv_peer(benchmark, photo):
    benchmark.group = "colour + sharpen 1024^2"
    benchmark(opencv_color_sharpen, photo)


# ----------------------------------------------------------------------------- routing
@pytest.fixture(scope="module")
def features(photo):
    return artrestore.analyze_vector(photo)


def test_route_artrestore(benchmark, features):
    benchmark.group = "route one image (100 trees)"
    benchmark(Router.load().predict, features)


def test_route_sklearn_peer(benchmark, features, sklearn_router):  # noqa: F811
    benchmark.group = "route one image (100 trees)"
    benchmark(sklearn_router.predict, features[None].astype(np.float64))


# ------------------------------------------------------------------ auto, light damage
@pytest.fixture(scope="module")
def light(photo_at):
    return light_image(photo_at, SIZE)


def test_auto_light_artrestore(benchmark, light):
    """analysis + routing + classical restore, in process, through the public restorer."""
    benchmark.group = "auto 1024^2 light damage"
    restorer = artrestore.HybridRestorer(use_dl=False)
    assert restorer.restore(light)[1]["method"] != "deep_learning"
    benchmark(restorer.restore, light)


def test_auto_light_opencv_peer(benchmark, light, sklearn_router):  # noqa: F811
    """The same three steps with scipy.fft, scikit-learn (the same forest) and OpenCV."""
    benchmark.group = "auto 1024^2 light damage"

    # The peer computes 12 of the 14 features; two zeros fill the rest so the same forest routes.
    def run():
        sklearn_router.predict(np.concatenate([scipy_features(light), np.zeros(2)])[None])
        return opencv_color_sharpen(light)

    benchmark(run)


# ------------------------------------------------------------------ 2 threads vs 1
CALLS = 8  # per thread; each call is analysis + fused colour + sharpen of a 1024^2 image


def _work(image, calls):
    for _ in range(calls):
        artrestore.analyze(image)
        classical.color_correct_sharpen(image, True, SIGMA, STRENGTH)


def _in_threads(image, n_threads):
    """2 * CALLS calls split over ``n_threads`` Python threads: the same work for 1 or 2; seconds."""
    threads = [threading.Thread(target=_work, args=(image, 2 * CALLS // n_threads)) for _ in range(n_threads)]
    start = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return time.perf_counter() - start


def test_two_threads_artrestore(benchmark, photo):
    """Two threads over one doing the same work (the GIL is released in every core call).

    The timed figure is the two-thread run; each round first runs the one-thread batch (untimed
    by pytest-benchmark, timed here), so both halves of a round's ratio see the same machine load.
    ``extra_info`` keeps both per round (seconds); the gate reads their per-round ratios
    (0.5 is perfect scaling, 1.0 means the threads ran one after the other).
    """
    benchmark.group = "16 x (analysis + fused) 1024^2, 2 threads"
    one, two = [], []
    benchmark.pedantic(lambda: two.append(_in_threads(photo, 2)),
                       setup=lambda: one.append(_in_threads(photo, 1)), rounds=7, warmup_rounds=1)
    benchmark.extra_info["one_thread_s"], benchmark.extra_info["two_threads_s"] = one[-7:], two[-7:]


# --------------------------------------------------------------------- fresh process
def _python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.fixture(scope="module")
def light_npy(light, tmp_path_factory):
    path = tmp_path_factory.mktemp("startup") / "light.npy"
    np.save(path, light)
    return str(path)


def test_import_artrestore(benchmark):
    """A fresh interpreter that imports artrestore (includes interpreter start-up)."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=("import artrestore",), rounds=7, warmup_rounds=1)


def test_bare_python_peer(benchmark):
    """The floor of ``import artrestore``: a fresh interpreter that imports nothing (the package is lazy)."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=("pass",), rounds=7, warmup_rounds=1)


def test_first_image_artrestore(benchmark, light_npy):
    """A fresh interpreter: import, build the restorer, restore one 1024^2 light image."""
    benchmark.group = "fresh process"
    code = ("import numpy, artrestore; "
            f"artrestore.HybridRestorer(use_dl=False).restore(numpy.load({light_npy!r}))")
    benchmark.pedantic(_python, args=(code,), rounds=7, warmup_rounds=1)


def test_import_numpy_cv2_peer(benchmark, light_npy):
    """The floor of the first image: a fresh interpreter importing NumPy and OpenCV and reading the image."""
    benchmark.group = "fresh process"
    benchmark.pedantic(_python, args=(f"import numpy, cv2; numpy.load({light_npy!r})",), rounds=7, warmup_rounds=1)
