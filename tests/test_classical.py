"""Unsharp mask and colour correction: against the NumPy reference and OpenCV."""
import threading

import cv2
import numpy as np
import pytest

import reference
from artrestore import _core, classical


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (300, 220), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5, 2.0, 3.3])
@pytest.mark.parametrize("strength", [0.5, 2.5])
def test_unsharp_float_matches_numpy_reference(photo, sigma, strength):
    image = photo.astype(np.float32) / 255
    got = classical.unsharp_mask(image, sigma, strength)
    want = reference.unsharp_mask(image, sigma, strength)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=2e-6)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_unsharp_uint8_within_one_level_of_reference_and_opencv(photo, sigma):
    got = classical.unsharp_mask(photo, sigma, 1.5).astype(int)
    want = np.rint(reference.unsharp_mask(photo, sigma, 1.5))
    assert np.abs(got - want).max() <= 1
    # OpenCV rounds the blur to 8 bits (fixed point) before addWeighted scales its error by the
    # strength (1.5 here): at most 3 levels apart, and rarely more than 1.
    blurred = cv2.GaussianBlur(photo, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
    opencv = cv2.addWeighted(photo, 2.5, blurred, -1.5, 0)
    diff = np.abs(got - opencv)
    assert diff.max() <= 3 and (diff > 1).mean() < 0.02


def test_threshold_leaves_small_detail_alone(photo):
    out = classical.unsharp_mask(photo, 1.0, 2.0, threshold=10).astype(int)
    detail = photo - reference.gaussian_blur(photo.astype(np.float64), 1.0)
    quiet = np.abs(detail) <= 9.5  # safely below the threshold despite float rounding
    np.testing.assert_array_equal(out[quiet], photo[quiet])
    assert (out[np.abs(detail) > 10.5] != photo[np.abs(detail) > 10.5]).mean() > 0.5


def test_zero_strength_is_identity(photo):
    np.testing.assert_array_equal(classical.unsharp_mask(photo, 2.0, 0.0), photo)


def test_tiny_images_with_kernel_wider_than_image():
    image = np.random.default_rng(1).random((2, 3, 3), dtype=np.float32)
    np.testing.assert_allclose(classical.unsharp_mask(image, 5.0, 1.0), reference.unsharp_mask(image, 5.0, 1.0), atol=2e-6)


def test_color_transform_matches_reference(photo):
    cast = np.clip(photo * np.array([1.15, 1.0, 0.75]) + 20, 0, 255).astype(np.uint8)
    gains, offsets = classical.estimate_color_transform(cast)
    want_gains, want_offsets = reference.color_transform(cast)
    np.testing.assert_allclose(gains, want_gains, rtol=1e-5)
    np.testing.assert_allclose(offsets, want_offsets, atol=1e-3)
    out = classical.color_correct(cast).astype(int)
    want = np.clip(np.rint(cast * want_gains + want_offsets), 0, 255)
    assert np.abs(out - want).max() <= 1


def test_color_correction_removes_a_cast_and_fading(clean_images):
    for clean in clean_images[:10]:
        faded = np.clip(clean * np.array([0.55, 0.5, 0.38]) + np.array([70, 60, 40]), 0, 255).astype(np.uint8)
        fixed = classical.color_correct(faded)
        spread = lambda im: np.ptp(im.reshape(-1, 3).mean(axis=0))
        assert spread(fixed) < spread(faded)
        assert np.percentile(fixed, 99) - np.percentile(fixed, 1) > np.percentile(faded, 99) - np.percentile(faded, 1)


def test_fused_equals_sequential_within_rounding(photo):
    cast = np.clip(photo * np.array([1.1, 1.0, 0.8]), 0, 255).astype(np.uint8)
    fused = classical.color_correct_sharpen(cast, True, 1.5, 2.0).astype(int)
    # The fused call keeps the corrected image in float, so compare with the reference applied to
    # the unrounded corrected image (a sequential 8-bit pipeline would add rounding x (1 + strength)).
    gains, offsets = reference.color_transform(cast)
    corrected = np.clip(cast * gains + offsets, 0, 255)
    want = np.rint(reference.unsharp_mask(corrected, 1.5, 2.0, top=255.0))
    assert np.abs(fused - want).max() <= 1
    without = classical.color_correct_sharpen(cast, False, 1.5, 2.0)
    np.testing.assert_array_equal(without, classical.unsharp_mask(cast, 1.5, 2.0))


def test_float_path_matches_uint8_path(photo):
    as_float = classical.color_correct_sharpen(photo.astype(np.float32) / 255, True, 1.0, 1.0)
    as_uint8 = classical.color_correct_sharpen(photo, True, 1.0, 1.0)
    assert np.abs(as_float * 255 - as_uint8).max() <= 1.0


@pytest.mark.parametrize(
    "kwargs, words",
    [({"sharpen_sigma": 0}, "sigma"), ({"sharpen_sigma": -1}, "sigma"), ({"sharpen_sigma": float("nan")}, "sigma"),
     ({"sharpen_strength": -0.5}, "strength"), ({"sharpen_strength": 11}, "strength"), ({"threshold": -1}, "threshold")],
)
def test_bad_parameters_raise_value_error(photo, kwargs, words):
    with pytest.raises(ValueError, match=words):
        classical.unsharp_mask(photo, **kwargs)


def test_bad_clip_percent(photo):
    with pytest.raises(ValueError, match="clip_percent"):
        classical.color_correct(photo, clip_percent=30)


def test_two_threads_give_serial_results(photo):
    images = [cv2.resize(photo, (w, h)) for h, w in [(128, 333), (700, 500), (64, 64)]]
    serial = [_core.color_correct_sharpen(im, True, 1.2, 1.5, 0.0, True, True, 0.5) for im in images]
    got = {}

    def work(i):
        got[i] = _core.color_correct_sharpen(images[i], True, 1.2, 1.5, 0.0, True, True, 0.5)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for i, want in enumerate(serial):
        np.testing.assert_array_equal(got[i], want)
