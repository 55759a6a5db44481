"""The 14 features: against the NumPy reference, across sizes, and their response to damage."""
import threading

import cv2
import numpy as np
import pytest

import artrestore
import reference
from artrestore import analysis

# The core accumulates in float32 where the reference uses float64.
ABS_TOL = {name: 2e-4 for name in reference.NAMES}
ABS_TOL.update({n: 2e-3 for n in ("skewness", "kurtosis", "energy_ratio", "sharpening_need")})
ABS_TOL.update({n: 0.01 for n in ("radial_center", "radial_25", "radial_50", "radial_75", "radial_edge")})


def assert_matches_reference(image):
    got = artrestore.analyze(image)
    want = reference.features(image)
    assert list(got) == list(reference.NAMES)
    for name in reference.NAMES:
        assert got[name] == pytest.approx(want[name], abs=ABS_TOL[name]), name


def test_feature_names_are_the_seeds():
    assert artrestore.FEATURE_NAMES == reference.NAMES


@pytest.mark.parametrize("shape", [(512, 512), (321, 481), (1000, 37), (100, 700), (256, 256), (40, 30)])
def test_core_matches_numpy_reference_on_photo_crops(astronaut, shape):
    image = cv2.resize(astronaut, shape[::-1], interpolation=cv2.INTER_AREA)
    assert_matches_reference(image)


def test_core_matches_reference_on_noise_and_float_input():
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    assert_matches_reference(noise)
    assert_matches_reference(noise.astype(np.float32) / 255)


def test_float_and_uint8_agree(astronaut):
    a = artrestore.analyze_vector(astronaut)
    b = artrestore.analyze_vector(astronaut.astype(np.float32) / 255)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_vector_order_matches_dict(astronaut):
    vec = artrestore.analyze_vector(astronaut)
    named = artrestore.analyze(astronaut)
    assert vec.dtype == np.float32 and vec.shape == (14,)
    np.testing.assert_array_equal(vec, np.float32(list(named.values())))


# Stated tolerance of size independence (docs/features.md): the same picture at 512 and 1024 px.
SIZE_TOL = {name: 0.02 for name in reference.NAMES}
SIZE_TOL.update({n: 0.15 for n in ("kurtosis", "energy_ratio")})
SIZE_TOL.update({n: 1.0 for n in ("radial_center", "radial_25", "radial_50", "radial_75", "radial_edge")})
SIZE_TOL["sharpening_need"] = 0.05


def test_features_do_not_depend_on_image_size(astronaut):
    big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_LANCZOS4)
    small = cv2.resize(big, (512, 512), interpolation=cv2.INTER_AREA)
    a, b = artrestore.analyze(big), artrestore.analyze(small)
    for name in reference.NAMES:
        assert a[name] == pytest.approx(b[name], abs=SIZE_TOL[name]), name


def test_color_balance_need_rises_with_cast(astronaut):
    needs = []
    for amount in (0.0, 0.1, 0.2, 0.35, 0.5):
        cast = np.clip(astronaut * np.array([1 + amount, 1.0, 1 - amount]), 0, 255).astype(np.uint8)
        needs.append(artrestore.analyze(cast)["color_balance_need"])
    assert all(b > a for a, b in zip(needs, needs[1:])), needs


def test_blur_raises_sharpening_need_and_lowers_high_freq_energy(astronaut):
    sharp, blurred = [], []
    for sigma in (0, 0.8, 1.5, 2.5):
        image = astronaut if sigma == 0 else cv2.GaussianBlur(astronaut, (0, 0), sigma)
        f = artrestore.analyze(image)
        sharp.append(f["sharpening_need"])
        blurred.append(f["high_freq_energy"])
    assert all(b > a for a, b in zip(sharp, sharp[1:])) or sharp[-1] == 1.0, sharp
    assert sharp[0] < 0.4 and sharp[-1] > 0.7
    assert all(b < a for a, b in zip(blurred, blurred[1:])), blurred


def test_blur_response_on_real_photographs(clean_images):
    lifted = [
        artrestore.analyze(cv2.GaussianBlur(im, (0, 0), 2.0))["sharpening_need"] - artrestore.analyze(im)["sharpening_need"]
        for im in clean_images[:20]
    ]
    assert min(lifted) > 0.2


def test_flat_image_has_zero_spectral_features():
    f = artrestore.analyze(np.full((64, 64, 3), 128, np.uint8))
    assert f["mean"] == pytest.approx(128 / 255, abs=1e-6)
    assert all(f[n] == 0 for n in reference.NAMES if n != "mean")


def test_grayscale_and_rgba_are_converted(astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(artrestore.analyze_vector(gray), artrestore.analyze_vector(np.dstack([gray] * 3)))
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 7, np.uint8)])
    np.testing.assert_array_equal(artrestore.analyze_vector(rgba), artrestore.analyze_vector(astronaut))


def test_non_contiguous_views_are_handled(astronaut):
    view = astronaut[::2, ::3]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(artrestore.analyze_vector(view), artrestore.analyze_vector(view.copy()))


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.zeros((8, 8, 3), np.int32), TypeError, "dtype"),
        (np.zeros((8, 8, 3), np.uint16), TypeError, "dtype"),
        (np.zeros((8, 8, 2), np.uint8), ValueError, "channels"),
        (np.zeros((2, 8, 8, 3), np.uint8), ValueError, "shape"),
        (np.zeros((0, 8, 3), np.uint8), ValueError, "2x2"),
        (np.zeros((1, 1, 3), np.uint8), ValueError, "2x2"),
        (np.full((8, 8, 3), np.nan, np.float32), ValueError, "NaN"),
        (np.full((8, 8, 3), np.inf, np.float32), ValueError, "NaN"),
        (np.full((8, 8, 3), np.nan, np.float64), ValueError, "NaN"),
        (np.full((8, 8, 3), 1e300, np.float64), ValueError, "float32 range"),
        ([[1, 2, 3]], TypeError, "numpy"),
    ],
)
def test_bad_input_raises_a_named_error(bad, error, words):
    with pytest.raises(error, match=words):
        artrestore.analyze(bad)


def test_core_binding_refuses_what_python_layer_would_convert():
    from artrestore import _core

    with pytest.raises(ValueError, match="C-contiguous"):
        _core.analyze(np.zeros((16, 16, 3), np.uint8)[:, ::-1])
    with pytest.raises(TypeError, match="dtype"):
        _core.analyze(np.zeros((16, 16, 3), np.float64))
    with pytest.raises(ValueError, match="H x W x 3"):
        _core.analyze(np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        _core.analyze(np.full((16, 16, 3), np.nan, np.float32))


def test_threads_get_serial_results_for_mixed_shapes(astronaut):
    images = [cv2.resize(astronaut, (w, h)) for h, w in [(300, 200), (512, 512), (97, 1200), (1024, 768)] * 3]
    serial = [analysis.analyze_vector(im) for im in images]
    results = [None] * len(images)

    def work(i):
        for _ in range(5):
            results[i] = analysis.analyze_vector(images[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(serial, results):
        np.testing.assert_array_equal(a, b)
