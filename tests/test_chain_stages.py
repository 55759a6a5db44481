"""The chain's stages one by one: inpainting, blind noise estimate and denoising, colour and fading
recovery - each against a known image and a known damage."""
import cv2
import numpy as np
import pytest

from artrestore import metrics
from artrestore.chain import colour, denoise, inpaint


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA)


# ------------------------------------------------------------------------------------- inpaint
@pytest.fixture(scope="module")
def gradient():
    y, x = np.mgrid[0:200, 0:260].astype(np.float32)
    g = 40 + 0.5 * x + 0.3 * y
    return np.clip(np.dstack([g, g * 0.8, 255 - g]), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("method", inpaint.METHODS)
def test_inpaint_fills_a_line_on_a_smooth_image_and_keeps_the_rest(gradient, method):
    damaged = gradient.copy()
    mask = np.zeros(gradient.shape[:2], np.uint8)
    cv2.line(mask, (10, 20), (250, 180), 255, 2)
    damaged[mask > 0] = (255, 0, 255)
    out = inpaint.inpaint(damaged, mask, 3, method)
    np.testing.assert_array_equal(out[mask == 0], damaged[mask == 0])
    error = np.abs(out[mask > 0].astype(int) - gradient[mask > 0]).mean()
    assert error < 3, error


def test_tiled_telea_is_close_to_whole_frame(photo):
    mask = np.zeros(photo.shape[:2], np.uint8)
    for k in range(8):
        cv2.line(mask, (0, 37 * k), (319, 300 - 29 * k), 255, 1)
    whole = cv2.inpaint(photo, mask, 3, cv2.INPAINT_TELEA)
    tiled = inpaint.inpaint(photo, mask, 3, "telea")
    assert metrics.psnr(tiled, whole) > 40


def test_inpaint_errors(photo):
    with pytest.raises(ValueError, match="mask shape"):
        inpaint.inpaint(photo, np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="method"):
        inpaint.inpaint(photo, np.zeros(photo.shape[:2], np.uint8), method="magic")
    with pytest.raises(ValueError, match="radius"):
        inpaint.inpaint(photo, np.zeros(photo.shape[:2], np.uint8), radius=0)
    empty = inpaint.inpaint(photo, np.zeros(photo.shape[:2], np.uint8))
    np.testing.assert_array_equal(empty, photo)


# ------------------------------------------------------------------------------------- denoise
@pytest.mark.parametrize("sigma", [3.0, 6.0, 12.0])
def test_noise_estimate_on_known_gaussian_noise(gradient, sigma):
    gray = cv2.cvtColor(gradient, cv2.COLOR_RGB2GRAY).astype(np.float32)
    noisy = np.clip(gray + np.random.default_rng(0).normal(0, sigma, gray.shape), 0, 255).astype(np.uint8)
    assert denoise.estimate_noise(noisy) == pytest.approx(sigma, rel=0.15)


def test_noise_estimate_of_a_clean_photo_is_small(photo):
    assert denoise.estimate_noise(photo) < denoise.NOISE_TOLERANCE


@pytest.mark.parametrize("method", denoise.METHODS)
def test_denoise_gains_on_noisy_photo(photo, method):
    noisy = np.clip(photo + np.random.default_rng(1).normal(0, 10, photo.shape), 0, 255).astype(np.uint8)
    out = denoise.denoise(noisy, 1.0, method)
    assert metrics.psnr(out, photo) > metrics.psnr(noisy, photo) + 1


def test_denoise_leaves_clean_images_and_strength_zero_alone(photo):
    np.testing.assert_array_equal(denoise.denoise(photo, 1.0), photo)
    noisy = np.clip(photo + np.random.default_rng(1).normal(0, 10, photo.shape), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(denoise.denoise(noisy, 0.0), noisy)
    with pytest.raises(ValueError, match="strength"):
        denoise.denoise(noisy, -1)
    with pytest.raises(ValueError, match="method"):
        denoise.denoise(noisy, 1, "wavelet")


# -------------------------------------------------------------------------------------- colour
def fade(image, amount=0.35, lift=30, gains=(1.1, 1.0, 0.8)):
    """The synthesizer's physics: contrast toward paper grey, lifted blacks, a per-channel cast."""
    x = image.astype(np.float32)
    x = x * (1 - amount) + amount * 200 + lift * (1 - x / 255)
    return np.clip(x * np.float32(gains), 0, 255).astype(np.uint8)


def test_colour_recovers_fading_and_cast(photo):
    faded = fade(photo)
    out = colour.correct_colour(faded, 1.0)
    assert metrics.psnr(out, photo) > metrics.psnr(faded, photo) + 4


def test_colour_strength_blends(photo):
    faded = fade(photo)
    full, half = colour.correct_colour(faded, 1.0), colour.correct_colour(faded, 0.5)
    assert metrics.psnr(faded, photo) < metrics.psnr(half, photo) < metrics.psnr(full, photo)
    np.testing.assert_array_equal(colour.correct_colour(faded, 0.0), faded)


def test_colour_never_clips_unclipped_highlights():
    rng = np.random.default_rng(2)
    image = rng.integers(60, 251, (100, 100, 3)).astype(np.uint8)  # lifted blacks, whites below 255
    image[:5, :5] = 255  # and a few clipped ones
    out = colour.correct_colour(image, 1.0, black_tolerance=0, white_tolerance=0)
    assert out[image < 255].max() <= 254
    assert out.min() < 30  # the lift was removed
    lut = colour.colour_lut(colour.estimate_colour(image, black_tolerance=0, white_tolerance=0), 1.0)
    assert (np.diff(lut.astype(int), axis=0) >= 0).all()  # monotone curves


def test_colour_leaves_a_neutral_full_range_image_alone():
    ramp = np.repeat(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 64, axis=0), 3, axis=2)
    np.testing.assert_array_equal(colour.correct_colour(ramp, 1.0), ramp)


def test_colour_errors(photo):
    with pytest.raises(ValueError, match="strength"):
        colour.correct_colour(photo, 1.5)
    with pytest.raises(ValueError, match="method"):
        colour.estimate_colour(photo, method="retinex")
