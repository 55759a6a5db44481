"""Core speed beside its peers, measured in the same run.

Run: pytest benchmarks/test_core_speed.py --benchmark-json=out/core.json
then: python benchmarks/report.py out/core.json
Groups pair artrestore with a peer: the NumPy reference and a scipy.fft + OpenCV implementation
for analysis; OpenCV (GaussianBlur + addWeighted, per-channel gain via LUT) for the operations.
"""
import threading
import time

import cv2
import numpy as np
import pytest
import scipy.fft

import reference
from artrestore import _core


def scipy_features(image: np.ndarray) -> np.ndarray:
    """The best plain-Python peer: OpenCV area resize, scipy.fft.rfft2, NumPy band sums."""
    small = cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    y = small @ np.float32([0.299, 0.587, 0.114])
    mu, sd = y.mean(), y.std()
    z = (y - mu) / sd
    hann = np.float32(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256))
    power = np.abs(scipy.fft.rfft2((y - mu) * np.outer(hann, hann))) ** 2
    power[:, 1:-1] *= 2
    fy = np.fft.fftfreq(256) * 256
    r = np.hypot(fy[:, None], np.arange(129)[None, :]) / 128
    total = power.sum()
    bands = [power[(r > c - 1 / 32) & (r <= c + 1 / 32)].mean() for c in (0.03, 0.25, 0.5, 0.75, 0.97)]
    return np.array([mu, sd, (z**3).mean(), (z**4).mean() - 3, power[r <= 0.125].sum() / total,
                     power[r > 0.25].sum() / total, *bands, small.reshape(-1, 3).mean(0).std()])


@pytest.mark.parametrize("size", [256, 1024, 2048])
def test_analysis_artrestore(benchmark, photo_at, size):
    benchmark.group = f"analysis {size}^2"
    benchmark(_core.analyze, photo_at(size))


@pytest.mark.parametrize("size", [256, 1024, 2048])
def test_analysis_scipy_fft_peer(benchmark, photo_at, size):
    benchmark.group = f"analysis {size}^2"
    benchmark(scipy_features, photo_at(size))


@pytest.mark.parametrize("size", [256, 1024, 2048])
def test_analysis_numpy_reference(benchmark, photo_at, size):
    benchmark.group = f"analysis {size}^2"
    benchmark.pedantic(reference.features, args=(photo_at(size),), rounds=5, iterations=1)


SIGMA, STRENGTH = 1.0, 1.5


@pytest.mark.parametrize("size", [1024, 2048])
def test_unsharp_artrestore(benchmark, photo_at, size):
    benchmark.group = f"unsharp mask {size}^2"
    benchmark(_core.unsharp_mask, photo_at(size), SIGMA, STRENGTH, 0.0)


@pytest.mark.parametrize("size", [1024, 2048])
def test_unsharp_opencv(benchmark, photo_at, size):
    benchmark.group = f"unsharp mask {size}^2"
    image = photo_at(size)
    benchmark(lambda: cv2.addWeighted(image, 1 + STRENGTH, cv2.GaussianBlur(image, (0, 0), SIGMA), -STRENGTH, 0))


def opencv_color_correct(image):
    """Peer: grey-world gains and a percentile stretch from a histogram, applied with a LUT."""
    hist = [cv2.calcHist([image], [c], None, [256], [0, 256]).ravel() for c in range(3)]
    levels = np.arange(256)
    means = np.array([(h * levels).sum() / h.sum() for h in hist])
    gains = means.mean() / means
    cdf = np.cumsum(sum(hist)) / (3 * image.shape[0] * image.shape[1])
    lo, hi = np.searchsorted(cdf, 0.005), np.searchsorted(cdf, 0.995)
    scale = 255 / max(hi - lo, 1)
    lut = np.clip((levels[:, None] * gains[None, :] - lo) * scale, 0, 255).astype(np.uint8)
    return cv2.LUT(image, lut.reshape(256, 1, 3))


@pytest.mark.parametrize("size", [1024, 2048])
def test_color_correction_artrestore(benchmark, photo_at, size):
    benchmark.group = f"colour correction {size}^2"
    image = photo_at(size)

    def run():
        gains, offsets = _core.estimate_color_transform(image, True, True, 0.5)
        return _core.apply_color_transform(image, gains, offsets)

    benchmark(run)


@pytest.mark.parametrize("size", [1024, 2048])
def test_color_correction_opencv(benchmark, photo_at, size):
    benchmark.group = f"colour correction {size}^2"
    benchmark(opencv_color_correct, photo_at(size))


@pytest.mark.parametrize("size", [1024, 2048])
def test_fused_artrestore(benchmark, photo_at, size):
    benchmark.group = f"colour + sharpen {size}^2"
    benchmark(_core.color_correct_sharpen, photo_at(size), True, SIGMA, STRENGTH, 0.0, True, True, 0.5)


@pytest.mark.parametrize("size", [1024, 2048])
def test_fused_opencv(benchmark, photo_at, size):
    benchmark.group = f"colour + sharpen {size}^2"
    image = photo_at(size)

    def run():
        corrected = opencv_color_correct(image)
        return cv2.addWeighted(corrected, 1 + STRENGTH, cv2.GaussianBlur(corrected, (0, 0), SIGMA), -STRENGTH, 0)

    benchmark(run)


def _throughput(n_threads: int, image: np.ndarray, calls: int = 40) -> float:
    def work():
        for _ in range(calls):
            _core.color_correct_sharpen(image, True, SIGMA, STRENGTH, 0.0, True, True, 0.5)
            _core.analyze(image)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    start = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return n_threads * calls / (time.perf_counter() - start)


def test_two_thread_scaling(benchmark, photo_at):
    """Calls per second with two Python threads over one (the GIL is released in every call)."""
    benchmark.group = "threads"
    image = photo_at(1024)
    ratios = benchmark.pedantic(lambda: _throughput(2, image) / _throughput(1, image), rounds=3, iterations=1)
    benchmark.extra_info["two_thread_speedup"] = ratios
