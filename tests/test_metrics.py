"""PSNR and SSIM against scikit-image's implementations (an independent reference)."""
import numpy as np
import pytest

from artrestore import metrics

skm = pytest.importorskip("skimage.metrics")


@pytest.fixture(scope="module")
def pairs(astronaut):
    rng = np.random.default_rng(5)
    clean = astronaut[::2, ::2]
    noisy = np.clip(clean.astype(int) + rng.integers(-30, 31, clean.shape), 0, 255).astype(np.uint8)
    shifted = np.roll(clean, 3, axis=1)
    flat = np.full((40, 57, 3), 128, np.uint8)
    return [(clean, noisy), (clean, shifted), (flat, np.clip(flat.astype(int) + 1, 0, 255).astype(np.uint8)),
            (rng.integers(0, 256, (23, 31, 3), dtype=np.uint8), rng.integers(0, 256, (23, 31, 3), dtype=np.uint8))]


def test_psnr_matches_scikit_image(pairs):
    for a, b in pairs:
        assert metrics.psnr(a, b) == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=255), rel=1e-9)


def test_psnr_of_identical_images_is_infinite(astronaut):
    assert metrics.psnr(astronaut, astronaut) == float("inf")


def test_ssim_matches_scikit_image_gaussian_ssim(pairs):
    for a, b in pairs:
        reference = skm.structural_similarity(a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False, data_range=255)
        assert metrics.ssim(a, b) == pytest.approx(reference, abs=2e-3)


def test_ssim_is_one_for_identical_images_and_symmetric(pairs):
    a, b = pairs[0]
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.ssim(a, b) == pytest.approx(metrics.ssim(b, a), abs=1e-12)


def test_shape_mismatch_is_a_value_error(astronaut):
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr(astronaut, astronaut[1:])
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.ssim(astronaut, astronaut[:, 1:])
