"""Tests of the capture ageing family (a picture copied badly by camera or scanner) against independent references."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artrestore.ageing_families import capture

SEVERITIES = ("light", "moderate", "severe")


def _images(size: int = 96) -> list[np.ndarray]:
    """Synthetic 'photographs': a colour gradient, flat patches, a noise texture, a dark scene with a highlight."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    gradient = np.stack([x, y, 1 - 0.5 * (x + y)], -1)
    patches = np.kron(rng.uniform(0.1, 0.9, (4, 4, 3)), np.ones((size // 4, size // 4, 1)))
    texture = np.clip(0.5 + 0.2 * rng.standard_normal((size, size, 1)) + 0.2 * np.sin(8 * x)[..., None]
                      * np.array([1.0, 0.6, 0.2]), 0, 1)
    dark = np.clip(0.08 + 0.05 * np.stack([x, y, x * y], -1) + 0.9 * np.exp(-((x - 0.7) ** 2 + (y - 0.3) ** 2) / 0.01)[
        ..., None], 0, 1)
    return [np.round(255 * a).astype(np.uint8) for a in (gradient, patches, texture, dark)]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def _mean_psnr(severity: str, seeds=range(6)) -> float:
    return float(np.mean([_psnr(capture.damage(im, severity, s)[0], im) for im in _images() for s in seeds]))


def test_api_constants():
    assert capture.VERSION == "capture-1"
    assert capture.SEVERITIES == SEVERITIES
    assert set(capture.__all__) == {"VERSION", "SEVERITIES", "damage"}


def test_determinism_and_seed_and_image_dependence():
    im, other = _images()[:2]
    a, ma, ra = capture.damage(im, "moderate", 11)
    b, mb, rb = capture.damage(im.copy(), "moderate", 11)
    assert a.tobytes() == b.tobytes() and np.array_equal(ma, mb) and ra == rb
    c, _, rc = capture.damage(im, "moderate", 12)
    assert not np.array_equal(a, c) and rc["illuminant"] != ra["illuminant"]
    # Another image with the same seed draws other damage (the image bytes enter the seed).
    _, _, ro = capture.damage(other, "moderate", 11)
    assert ro["illuminant"] != ra["illuminant"] and ro["lens"] != ra["lens"]
    # A negative seed is a seed of its own, not the same stream as its absolute value.
    assert capture.damage(im, "light", -5)[2]["illuminant"] != capture.damage(im, "light", 5)[2]["illuminant"]


@pytest.mark.parametrize("severity", SEVERITIES)
def test_outputs_shape_dtype_and_record(severity):
    for shape in ((32, 32), (40, 71), (97, 64)):
        im = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
        out, mask, rec = capture.damage(im, severity, 3)
        assert out.shape == im.shape and out.dtype == np.uint8 and out.flags.c_contiguous
        assert mask.shape == shape and mask.dtype == bool
        assert rec["model"] == capture.VERSION and rec["severity"] == severity and rec["seed"] == 3
        assert json.loads(json.dumps(rec)) == rec  # plain JSON types all the way down
        for key in ("illuminant", "lens", "sensor", "rendering", "tone", "jpeg", "local_marks"):
            assert key in rec


def test_mask_matches_recorded_marks():
    seen_none = seen_some = 0
    for seed in range(40):
        im = _images()[seed % 4]
        _, mask, rec = capture.damage(im, ("light", "severe")[seed % 2], seed)
        assert set(rec["local_marks"]) <= {"dust", "lens_dust", "hairs", "newton_rings", "glare"}
        assert bool(mask.any()) == bool(rec["local_marks"]), rec["local_marks"]
        seen_none += not rec["local_marks"]
        seen_some += bool(rec["local_marks"])
        assert mask.mean() < 0.6  # marks are local, never the whole frame
    assert seen_none and seen_some
    checked = 0
    for seed in range(4):  # at 512 px, each recorded speck of dust that is large and dark enough is in the mask
        _, mask, rec = capture.damage(np.full((512, 512, 3), 150, np.uint8), "severe", seed)
        for cx, cy, r, depth in rec.get("dust", []):
            if depth > 0.3 and r > 1.5:
                assert mask[min(round(cy * 512), 511), min(round(cx * 512), 511)]
                checked += 1
    assert checked >= 5


def test_severity_ordering_and_psnr_ranges():
    light, moderate, severe = (_mean_psnr(s) for s in SEVERITIES)
    assert light > moderate + 3 > severe + 6, (light, moderate, severe)
    assert 24 < light < 36 and 16 < moderate < 26 and 10 < severe < 20, (light, moderate, severe)


def test_float_input_gives_the_uint8_result():
    im = _images()[2]
    a = capture.damage(im, "severe", 4)
    b = capture.damage(im.astype(np.float32) / 255.0, "severe", 4)
    assert a[0].tobytes() == b[0].tobytes() and a[2] == b[2]


def test_bad_arguments_raise_naming_the_argument():
    im = _images()[0]
    with pytest.raises(ValueError, match="severity"):
        capture.damage(im, "extreme", 0)
    for seed in (1.5, True, "3", None):
        with pytest.raises(TypeError, match="seed"):
            capture.damage(im, "light", seed)
    with pytest.raises(TypeError, match="clean"):
        capture.damage(im.tolist(), "light", 0)
    with pytest.raises(TypeError, match="clean"):
        capture.damage(im.astype(np.int16), "light", 0)
    with pytest.raises(ValueError, match="clean"):
        capture.damage(im[:16, :16], "light", 0)
    with pytest.raises(ValueError, match="clean"):
        capture.damage(np.full((40, 40, 3), np.nan, np.float32), "light", 0)


# Independent colour-science references.
_M_SRGB = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]])
_M_BFD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _white(xy):
    return np.array([xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1]])


def _ref_cast_rgb(src_xy, dst_xy):
    """Bradford von Kries transform src -> dst white, expressed on linear sRGB (test's own implementation)."""
    cone = np.diag((_M_BFD @ _white(dst_xy)) / (_M_BFD @ _white(src_xy)))
    return np.linalg.solve(_M_SRGB, np.linalg.solve(_M_BFD, cone @ _M_BFD @ _M_SRGB))


def test_white_points_and_bradford_against_published_values():
    # CIE illuminant A (2856 K, on the Planckian locus) and D65 (6504 K, Duv ~ +0.0032) chromaticities.
    assert np.allclose(capture._cct_to_xy(2856), (0.44757, 0.40745), atol=1.5e-3)
    assert np.allclose(capture._cct_to_xy(6504, 0.0032), (0.31271, 0.32902), atol=1e-3)
    assert capture._cct_to_xy(4000, 0.01)[1] > capture._cct_to_xy(4000)[1]  # + Duv is greener (higher y)
    # Lindbloom's published Bradford D65 -> D50 matrix (XYZ), seen through the sRGB matrix.
    d65_to_d50 = np.array([[1.0478112, 0.0228866, -0.0501270], [0.0295424, 0.9904844, -0.0170491],
                           [-0.0092345, 0.0150436, 0.7521316]])
    expected = np.linalg.solve(_M_SRGB, d65_to_d50 @ _M_SRGB)
    assert np.allclose(capture._linear_cast((0.31271, 0.32902), (0.34567, 0.35850)), expected, atol=2e-3)


def test_grey_takes_the_cast_of_the_recorded_white_balance_error():
    """On a flat grey original every rendering matrix keeps neutrals except the illuminant / white-balance pair, and
    the tone curve is the same for each channel: so the grey's red-blue balance must follow the Bradford cast from
    the recorded light to the recorded camera white (warm when the camera assumed a bluer light, and vice versa)."""
    grey = np.full((64, 64, 3), 110, np.uint8)
    predicted, observed = [], []
    for seed in range(60):
        out, _, rec = capture.damage(grey, ("light", "moderate", "severe")[seed % 3], seed)
        ill = rec["illuminant"]
        if ill["mixed"]:
            continue
        cast = _ref_cast_rgb(ill["camera_white_xy"], (0.3127, 0.3290)) @ _ref_cast_rgb((0.3127, 0.3290),
                                                                                      ill["light_xy"][0])
        rgb = cast @ np.ones(3)
        med = np.median(out.reshape(-1, 3).astype(np.float64), 0) + 0.5
        if abs(np.log(rgb[0] / rgb[2])) > 0.04 and 8 < med.min() and med.max() < 250:
            predicted.append(np.log(rgb[0] / rgb[2]))
            observed.append(np.log(med[0] / med[2]))
    predicted, observed = np.array(predicted), np.array(observed)
    assert len(predicted) >= 25
    assert np.mean(np.sign(predicted) == np.sign(observed)) >= 0.95
    assert np.corrcoef(predicted, observed)[0, 1] > 0.9


def test_casts_point_in_many_directions():
    """No fixed colour direction: over seeds the grey's chromaticity shift spans warm, cool, green and magenta."""
    grey = np.full((48, 48, 3), 120, np.uint8)
    shifts = []
    for seed in range(40):
        med = np.median(capture.damage(grey, "moderate", seed)[0].reshape(-1, 3).astype(float), 0)
        shifts.append((med[0] - med[2], med[1] - (med[0] + med[2]) / 2))
    shifts = np.array(shifts)
    assert (shifts[:, 0] > 5).any() and (shifts[:, 0] < -5).any()
    assert (shifts[:, 1] > 3).any() and (shifts[:, 1] < -3).any()


def test_spatial_scale_follows_image_size():
    """Mark sizes are drawn at a 512 px short side and scaled: radii in a 256 px image are half as large."""
    radii = {}
    for size in (128, 256):
        im = np.full((size, size, 3), 128, np.uint8)
        rs = [r for seed in range(30) for _, _, r, _ in capture.damage(im, "severe", seed)[2].get("dust", [])]
        radii[size] = np.median(rs)
    assert 1.6 < radii[256] / radii[128] < 2.5


def test_tone_curves_are_monotone_and_neutral_at_rest():
    """A tone curve never inverts densities; with no gamma error, S-curve or black/white shift it is sRGB."""
    x = np.linspace(0, 1, capture._LUT_SIZE)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    assert np.abs(capture._tone_lut(1.0, 0.0, 0.0, 1.0).astype(int) - np.round(255 * srgb)).max() <= 0
    for p in (0.74, 1.35):
        for contrast in (-0.5, 0.7):
            for black, white in ((-0.06, 0.86), (0.08, 1.1)):
                assert np.all(np.diff(capture._tone_lut(p, contrast, black, white).astype(int)) >= 0)
