"""The 13 damage measures: against the NumPy reference, and their response to each kind of damage."""
import cv2
import numpy as np
import pytest

import artrestore
import reference
from artrestore import analysis

# Luma noise of independent per-channel Gaussian noise: sqrt(0.299^2 + 0.587^2 + 0.114^2) sigma.
LUMA_NOISE = float(np.sqrt(0.299**2 + 0.587**2 + 0.114**2))
# float32 in the core, float64 in the reference (a gradient on a bin edge may fall either side, which
# moves the noise estimates by up to ~2 %); tone percentiles come from a 4096-bin histogram.
ABS_TOL = dict.fromkeys(reference.EXTRA_NAMES, 2e-4)
REL_TOL = dict.fromkeys(reference.EXTRA_NAMES, 0.0)
REL_TOL.update(noise_sigma=0.02, chroma_noise_sigma=0.02)
ABS_TOL.update(noise_sigma=2e-3, chroma_noise_sigma=2e-3, blur_exponent=1e-3, blockiness=1e-3, line_fraction=2e-3,
               black_point=1 / 4096, white_point=1 / 4096, dynamic_range=2 / 4096)


def noisy(image, sigma, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def test_names_extend_the_seed_contract():
    assert artrestore.FEATURE_NAMES == reference.NAMES  # the 14 are unchanged
    assert artrestore.EXTRA_FEATURE_NAMES == reference.EXTRA_NAMES
    assert artrestore.ROUTING_FEATURE_NAMES == reference.NAMES + reference.EXTRA_NAMES


@pytest.mark.parametrize("shape", [(512, 512), (321, 481), (1000, 37), (100, 700), (40, 30), (1024, 768)])
def test_core_matches_numpy_reference(astronaut, shape):
    image = cv2.resize(astronaut, shape[::-1], interpolation=cv2.INTER_AREA)
    image = noisy(image, 6)  # noise, so the residual histogram is not degenerate
    got, want = analysis.analyze_extra(image), reference.extra_features(image)
    for name in reference.EXTRA_NAMES:
        assert got[name] == pytest.approx(want[name], abs=ABS_TOL[name], rel=REL_TOL[name]), name


def test_core_matches_reference_on_float_input_and_jpeg(astronaut):
    ok, encoded = cv2.imencode(".jpg", astronaut, [cv2.IMWRITE_JPEG_QUALITY, 30])
    jpeg = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    for image in (jpeg, jpeg.astype(np.float32) / 255):
        got, want = analysis.analyze_extra(image), reference.extra_features(image)
        for name in reference.EXTRA_NAMES:
            assert got[name] == pytest.approx(want[name], abs=ABS_TOL[name], rel=REL_TOL[name]), name


def test_routing_vector_is_the_14_then_the_13(astronaut):
    vector = analysis.routing_vector(astronaut)
    assert vector.dtype == np.float32 and vector.shape == (27,)
    np.testing.assert_array_equal(vector[:14], analysis.analyze_vector(astronaut))
    np.testing.assert_array_equal(vector[14:], np.float32(list(analysis.analyze_extra(astronaut).values())))


@pytest.mark.parametrize("sigma", [2, 5, 10, 18])
def test_noise_sigma_on_a_flat_image(sigma):
    image = noisy(np.full((512, 512, 3), 128.0), sigma)
    f = analysis.analyze_extra(image)
    assert f["noise_sigma"] == pytest.approx(LUMA_NOISE * sigma, rel=0.08)
    assert f["chroma_noise_sigma"] == pytest.approx(sigma, rel=0.08)


def test_noise_sigma_is_robust_to_texture(clean_images):
    """Texture alone reads as little noise; added noise is measured through the texture."""
    photos = [cv2.resize(im, (480, 320), interpolation=cv2.INTER_AREA) for im in clean_images[:12]]
    clean = [analysis.analyze_extra(im)["noise_sigma"] for im in photos]
    assert np.median(clean) < 2.5
    for sigma in (6, 12):
        measured = [analysis.analyze_extra(noisy(im, sigma, k))["noise_sigma"] for k, im in enumerate(photos)]
        assert np.median(measured) == pytest.approx(LUMA_NOISE * sigma, rel=0.2), sigma
        assert min(m - c for m, c in zip(measured, clean)) > 0


def test_blur_exponent_rises_with_blur_and_survives_noise(clean_images):
    photos = [cv2.resize(im, (480, 320), interpolation=cv2.INTER_AREA) for im in clean_images[:12]]
    for im in photos:
        values = [analysis.analyze_extra(im if s == 0 else cv2.GaussianBlur(im, (0, 0), s))["blur_exponent"]
                  for s in (0, 1.0, 2.0)]
        assert values[0] < values[1] < values[2], values
        # Noise would flatten a plain gradient ratio; the compensated one still tells blur from sharp.
        sharp_noisy = analysis.analyze_extra(noisy(im, 8))["blur_exponent"]
        blurred_noisy = analysis.analyze_extra(noisy(cv2.GaussianBlur(im, (0, 0), 2.0), 8))["blur_exponent"]
        assert blurred_noisy > sharp_noisy + 0.3


def test_blockiness_rises_as_jpeg_quality_drops(astronaut):
    values = []
    for quality in (100, 80, 50, 20):
        ok, encoded = cv2.imencode(".jpg", astronaut, [cv2.IMWRITE_JPEG_QUALITY, quality])
        values.append(analysis.analyze_extra(cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED))["blockiness"])
    assert abs(values[0]) < 0.05
    assert all(b > a for a, b in zip(values, values[1:])), values


def test_line_fraction_sees_scratches_not_noise(astronaut):
    scratched = astronaut.copy()
    rng = np.random.default_rng(3)
    for k in range(12):
        a, b = rng.integers(0, 512, 2), rng.integers(0, 512, 2)
        cv2.line(scratched, tuple(map(int, a)), tuple(map(int, b)), (235, 235, 225) if k % 2 else (25, 20, 20), 2)
    base = analysis.analyze_extra(astronaut)["line_fraction"]
    assert analysis.analyze_extra(scratched)["line_fraction"] > base + 0.01
    flat_noise = noisy(np.full((512, 512, 3), 128.0), 18)
    assert analysis.analyze_extra(flat_noise)["line_fraction"] < 1e-3


def test_colour_cast_measures(astronaut):
    grey = np.repeat(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert analysis.analyze_extra(grey)["cast_chroma"] < 1e-3
    assert analysis.analyze_extra(grey)["colorfulness"] < 1e-3
    red = np.clip(grey * np.array([1.2, 1.0, 1.0]), 0, 255).astype(np.uint8)
    yellow = np.clip(grey * np.array([1.1, 1.05, 0.7]), 0, 255).astype(np.uint8)
    fr, fy = analysis.analyze_extra(red), analysis.analyze_extra(yellow)
    assert fr["cast_red_green"] > 0.03 and abs(fr["cast_red_green"]) > abs(fr["cast_yellow_blue"]) / 2
    assert fy["cast_yellow_blue"] > 0.05
    assert fy["cast_chroma"] == pytest.approx(np.hypot(fy["cast_red_green"], fy["cast_yellow_blue"]), abs=1e-6)
    # A stain tints part of the picture: unevenness, not a global cast.
    stained = grey.astype(np.float32)
    stained[:200, :200] *= np.array([1.0, 0.85, 0.55])
    assert analysis.analyze_extra(grey)["chroma_unevenness"] < 1e-3
    assert analysis.analyze_extra(stained.astype(np.uint8))["chroma_unevenness"] > 0.02


def test_fading_measures(astronaut):
    f0 = analysis.analyze_extra(astronaut)
    faded = (astronaut * 0.6 + 0.4 * 200).astype(np.uint8)  # toward paper tone
    lifted = (astronaut * (1 - 40 / 255) + 40).astype(np.uint8)  # lifted blacks
    ff, fl = analysis.analyze_extra(faded), analysis.analyze_extra(lifted)
    assert ff["dynamic_range"] < 0.7 * f0["dynamic_range"]
    assert fl["black_point"] > f0["black_point"] + 0.12
    for f in (f0, ff, fl):
        assert f["dynamic_range"] == pytest.approx(f["white_point"] - f["black_point"], abs=1e-6)


def test_flat_image_measures_nothing():
    f = analysis.analyze_extra(np.full((64, 64, 3), 128, np.uint8))
    for name in ("noise_sigma", "chroma_noise_sigma", "blur_exponent", "blockiness", "line_fraction", "cast_chroma",
                 "colorfulness", "chroma_unevenness", "dynamic_range"):
        assert f[name] == pytest.approx(0, abs=1 / 4096), name


@pytest.mark.parametrize("bad, error, words", [
    (np.full((8, 8, 3), np.nan, np.float32), ValueError, "NaN"),
    (np.zeros((1, 1, 3), np.uint8), ValueError, "2x2"),
    (np.zeros((8, 8, 3), np.int32), TypeError, "dtype"),
])
def test_bad_input_raises_a_named_error(bad, error, words):
    with pytest.raises(error, match=words):
        analysis.analyze_extra(bad)
    with pytest.raises(error, match=words):
        analysis.routing_vector(bad)
