"""The restoration chain's speed, and its line detector's core kernel beside the OpenCV equivalent,
measured in the same run on one core.

Run: pytest benchmarks/test_chain_speed.py --benchmark-json=out/chain.json
then: python benchmarks/report.py out/chain.json
Groups: "chain N^2" - the whole chain (classical defaults, and with the line stage at sensitivity
1 so that inpainting runs) beside the same chain whose oriented-run test is OpenCV morphology;
"chain N^2 (every stage, severe)" - every stage on and strong (the bank's heaviest) on broad
severe damage; "ml_guided route N^2" - the restorer's whole ml_guided path;
"line test N^2" - the oriented-run test alone (core) beside binary openings by line segments
(OpenCV), on the same candidate mask; "detector N^2" - the whole detector, core or OpenCV inside;
"scratch removal N^2" - the opt-in long-scratch stage (``chain.scratches``: detection and Telea)
beside the chain's own line stage (``chain.lines`` at sensitivity 1 and the same inpainting);
"scratch line filter N^2" - the stage's 16-direction matched filter at its lengths for N (21 / 43 px):
the core's ``line_responses`` and ``line_flags`` (what the stage calls) beside the OpenCV filter2D
formulation the stage used before (``tests/reference.py``, equal to 1e-3 levels).
"""
import cv2
import numpy as np
import pytest

from artrestore.chain import ChainParams, lines, run_chain, scratches
from artrestore.chain.inpaint import inpaint
from artrestore.training.synthesis import synthesize_damage

SIZES = [512, 1024]
LINES_ON = ChainParams(line_sensitivity=1.0)
# Every stage on and strong, on severe damage: the most the ml_guided bank asks of the chain.
ALL_ON = ChainParams(line_sensitivity=1.2, denoise_strength=1.5, noise_ceiling=20.0, colour_strength=1.0,
                     sharpen_strength=0.6, sharpen_sigma=1.5)


@pytest.fixture(scope="module")
def damaged_at(photo_at):
    cache = {}

    def make(size):
        if size not in cache:
            cache[size] = synthesize_damage(photo_at(size), "moderate", seed=1)[0]
        return cache[size]

    return make


@pytest.fixture(scope="module")
def severe_at(photo_at):
    from artrestore.training.broad_damage import broad_damage

    cache = {}

    def make(size):
        if size not in cache:
            cache[size] = broad_damage(photo_at(size), "severe", seed=1)[0]
        return cache[size]

    return make


@pytest.fixture
def opencv_line_test(monkeypatch):
    """Swap the core's oriented-run test for the OpenCV morphological one inside the detector."""
    monkeypatch.setattr(lines, "oriented_lines", lines.oriented_lines_opencv)


def _candidates(image):
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    residue = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, np.ones((7, 7), np.uint8))
    return (residue > 20).astype(np.uint8)


@pytest.mark.parametrize("size", SIZES)
def test_chain_artrestore_classical(benchmark, damaged_at, size):
    benchmark.group = f"chain {size}^2"
    benchmark(run_chain, damaged_at(size))


@pytest.mark.parametrize("size", SIZES)
def test_chain_artrestore_lines_on(benchmark, damaged_at, size):
    benchmark.group = f"chain {size}^2 (lines on)"
    benchmark(run_chain, damaged_at(size), LINES_ON)


@pytest.mark.parametrize("size", SIZES)
def test_chain_opencv_line_test_lines_on(benchmark, damaged_at, size, opencv_line_test):
    benchmark.group = f"chain {size}^2 (lines on)"
    benchmark(run_chain, damaged_at(size), LINES_ON)


@pytest.mark.parametrize("size", SIZES)
def test_chain_artrestore_all_stages_severe(benchmark, severe_at, size):
    benchmark.group = f"chain {size}^2 (every stage, severe)"
    benchmark(run_chain, severe_at(size), ALL_ON)


@pytest.mark.parametrize("size", SIZES)
def test_ml_guided_route_artrestore(benchmark, severe_at, size):
    """The whole ml_guided path of the restorer: FFT features, chain features, three forests, chain."""
    from artrestore import HybridRestorer

    restorer = HybridRestorer(use_dl=False)
    benchmark.group = f"ml_guided route {size}^2 (severe)"
    benchmark(restorer.restore, severe_at(size), "ml_guided")


@pytest.mark.parametrize("size", SIZES)
def test_line_test_artrestore(benchmark, damaged_at, size):
    benchmark.group = f"line test {size}^2"
    cand = _candidates(damaged_at(size))
    length = 2 * round(15 * size / 512) + 1
    benchmark(lines.oriented_lines, cand, length, 9, 24)


@pytest.mark.parametrize("size", SIZES)
def test_line_test_opencv(benchmark, damaged_at, size):
    benchmark.group = f"line test {size}^2"
    cand = _candidates(damaged_at(size))
    length = 2 * round(15 * size / 512) + 1
    benchmark(lines.oriented_lines_opencv, cand, length, 9, 24)


@pytest.mark.parametrize("size", SIZES)
def test_detector_artrestore(benchmark, damaged_at, size):
    benchmark.group = f"detector {size}^2"
    benchmark(lines.detect_lines, damaged_at(size), 1.0)


@pytest.mark.parametrize("size", SIZES)
def test_detector_opencv_line_test(benchmark, damaged_at, size, opencv_line_test):
    benchmark.group = f"detector {size}^2"
    benchmark(lines.detect_lines, damaged_at(size), 1.0)


@pytest.mark.parametrize("size", SIZES)
def test_scratch_removal_artrestore(benchmark, damaged_at, size):
    benchmark.group = f"scratch removal {size}^2"
    benchmark(scratches.remove_scratches, damaged_at(size))


@pytest.mark.parametrize("size", SIZES)
def test_scratch_removal_chain_line_stage(benchmark, damaged_at, size):
    benchmark.group = f"scratch removal {size}^2"
    benchmark(lambda image: inpaint(image, lines.detect_lines(image, 1.0)), damaged_at(size))


def _scratch_luma(image):
    size = min(image.shape[:2])
    length = max(7, round(scratches.LENGTH * size / 512)) | 1
    offset = max(1, round(scratches.OFFSET * size / 512))
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32), length, offset


@pytest.mark.parametrize("size", SIZES)
def test_scratch_line_filter_artrestore(benchmark, damaged_at, size):
    from artrestore import _core

    benchmark.group = f"scratch line filter {size}^2"
    benchmark(_core.line_responses, *_scratch_luma(damaged_at(size)), scratches.ANGLES)


@pytest.mark.parametrize("size", SIZES)
def test_scratch_line_flags_artrestore(benchmark, damaged_at, size):
    from artrestore import _core

    benchmark.group = f"scratch line filter {size}^2"
    benchmark(_core.line_flags, *_scratch_luma(damaged_at(size)), scratches.ANGLES, 10.0, 10.0)


@pytest.mark.parametrize("size", SIZES)
def test_scratch_line_filter_opencv(benchmark, damaged_at, size):
    import reference

    benchmark.group = f"scratch line filter {size}^2"
    benchmark(reference.line_responses_opencv, *_scratch_luma(damaged_at(size)), scratches.ANGLES)
