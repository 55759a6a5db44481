"""Behaviour of the ``varnish`` ageing family (paintings under aged varnish, grime, bloom, cracks and losses).

References are computed here from first principles (sRGB decoding, Beer-Lambert absorption, PSNR), not taken from
the module's own output.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from artrestore.ageing_families import varnish as V

LOCAL = ("cracks", "losses", "retouchings", "weave")


def _srgb_to_linear(u8):
    """IEC 61966-2-1 decoding, written out independently of the module's table."""
    v = u8.astype(np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def _picture(kind, h=96, w=128, seed=0):
    """Small synthetic 'paintings': smooth colour fields, patches and brush-like texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / np.float64(max(h, w))
    if kind == "gradient":
        img = np.stack([0.2 + 0.7 * xx, 0.3 + 0.5 * yy, 0.8 - 0.6 * xx * yy], -1)
    elif kind == "patches":
        img = np.zeros((h, w, 3))
        for _ in range(12):
            y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 8)
            img[y0:y0 + rng.integers(8, h // 2), x0:x0 + rng.integers(8, w // 2)] = rng.uniform(0.05, 0.95, 3)
        img += 0.3 * (img == 0)
    else:  # noise texture: low-frequency colour plus fine strokes
        coarse = rng.uniform(0.1, 0.9, (4, 5, 3))
        img = coarse[(yy * 3.99 * max(h, w) / h).astype(int), (xx * 4.99 * max(h, w) / w).astype(int)]
        img = img + 0.12 * np.sin(40 * xx + 9 * rng.standard_normal((h, 1)))[..., None]
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


IMAGES = [_picture(k, seed=i) for i, k in enumerate(("gradient", "patches", "texture"))]


def test_outputs_shape_dtype_and_json_record():
    for shape in ((32, 32), (33, 71), (80, 40)):
        img = np.random.default_rng(1).integers(0, 256, shape + (3,), dtype=np.uint8)
        for sev in V.SEVERITIES:
            out, mask, rec = V.damage(img, sev, 5)
            assert out.dtype == np.uint8 and out.shape == img.shape and out.flags.c_contiguous
            assert mask.dtype == np.bool_ and mask.shape == shape
            again = json.loads(json.dumps(rec))
            assert again["model"] == V.VERSION == "varnish-1" and again["severity"] == sev and again["seed"] == 5


def test_deterministic_and_seed_and_image_dependent():
    a, b = IMAGES[0], IMAGES[1]
    out1, m1, r1 = V.damage(a, "moderate", 123)
    out2, m2, r2 = V.damage(a.copy(), "moderate", 123)
    assert out1.tobytes() == out2.tobytes() and np.array_equal(m1, m2) and r1 == r2
    assert V.damage(a, "moderate", 124)[0].tobytes() != out1.tobytes()
    # Another image with the same seed draws other damage (the image bytes enter the generator's seed).
    strip = lambda r: {k: v for k, v in r.items() if k not in ("losses",)}
    assert strip(V.damage(b, "moderate", 123)[2]) != strip(r1)


def test_float_input_matches_uint8_and_grayscale_accepted():
    img = IMAGES[2]
    out_u8 = V.damage(img, "light", 9)[0]
    out_f = V.damage(img.astype(np.float32) / 255.0, "light", 9)[0]
    assert out_f.tobytes() == out_u8.tobytes()
    assert V.damage(img[..., 0], "severe", 3)[0].shape == img.shape


def test_bad_arguments_name_the_argument():
    img = IMAGES[0]
    with pytest.raises(ValueError, match="severity"):
        V.damage(img, "extreme", 1)
    for bad_seed in (1.5, True, "3", None):
        with pytest.raises(TypeError, match="seed"):
            V.damage(img, "light", bad_seed)
    with pytest.raises(TypeError, match="clean"):
        V.damage(img.tolist(), "light", 1)
    with pytest.raises(ValueError, match="clean"):
        V.damage(np.zeros((10, 10, 5), np.uint8), "light", 1)
    with pytest.raises(TypeError, match="clean"):
        V.damage(img.astype(np.int32), "light", 1)


def test_mask_consistent_with_record():
    seen_local = seen_none = 0
    for seed in range(40):
        sev = V.SEVERITIES[seed % 3]
        out, mask, rec = V.damage(IMAGES[seed % 3], sev, seed)
        local = [k for k in LOCAL if k in rec["processes"]]
        if not local:
            seen_none += 1
            assert not mask.any(), rec["processes"]
        if rec.get("losses", {}).get("fraction", 0) > 0 or rec.get("retouchings"):
            seen_local += 1
            assert mask.any()
        # Global colour/tone processes dominate: the marks never cover most of the picture.
        assert mask.mean() < 0.6
    assert seen_local and seen_none


def test_severity_ordering_and_psnr_ranges():
    means = []
    for sev in V.SEVERITIES:
        vals = [_psnr(V.damage(img, sev, seed)[0], img) for img in IMAGES for seed in range(8)]
        means.append(np.mean(vals))
    light, moderate, severe = means
    assert light > moderate + 3 > severe + 6, means
    assert 23 < light < 36 and 16 < moderate < 25 and 10 < severe < 19, means


def _find(sev, img, want, limit=400):
    for seed in range(limit):
        out, mask, rec = V.damage(img, sev, seed)
        if want(rec):
            return out, mask, rec
    pytest.skip("no draw of the wanted kind")


def test_varnish_alone_follows_beer_lambert_on_flat_grey():
    """A pure varnish film on flat grey: -ln(T_c) averages to blue_density x (red, green, 1) ratios (mean thickness 1)."""
    grey = np.full((64, 64, 3), 200, np.uint8)
    out, mask, rec = _find("light", grey, lambda r: r["processes"] == ["varnish"] and r["substrate"] != "paper")
    assert not mask.any()
    absorb = -np.log(_srgb_to_linear(out) / _srgb_to_linear(grey)).reshape(-1, 3).mean(0)
    v = rec["varnish"]
    expected = v["blue_density"] * np.array([v["red_ratio"], v["green_ratio"], 1.0])
    np.testing.assert_allclose(absorb, expected, atol=0.015)
    # Yellowing: blue is absorbed most, so a white area turns yellow-to-brown and never blue.
    assert absorb[2] > absorb[1] and absorb[2] > absorb[0]


def test_absorbing_films_keep_black_black_and_bloom_lifts_it():
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255
    films = {"varnish", "grime", "cleaning", "fading"}
    out, _, _ = _find("moderate", img, lambda r: set(r["processes"]) <= films)
    assert out[:, :24].max() <= 1  # multiplicative films cannot lift a black
    out, _, rec = _find("severe", img, lambda r: "bloom" in r["processes"] and r["bloom"]["haze"] > 0.1)
    assert _srgb_to_linear(out[:, :24]).mean() > 0.02  # a milky veil scatters light back from the blacks


def test_red_lake_fading_moves_dense_reds_more_than_pale_ones():
    """Fading bleaches the lake's optical density: dense reds gain more (towards pale) than already pale pinks."""
    srgb = np.zeros((32, 64, 3), np.uint8)
    srgb[:, :32] = (190, 20, 35)    # dense crimson lake
    srgb[:, 32:] = (235, 190, 195)  # pale pink (lake let down with white)
    lin = _srgb_to_linear(srgb).astype(np.float32).transpose(2, 0, 1)
    for seed in range(200):
        rec = {}
        faded = V._fade(np.random.default_rng(seed), lin.copy(), srgb.astype(np.float32) / 255, 32, 64, 0.8, rec)
        if list(rec["fading"]) == ["red_lake"]:
            break
    else:
        pytest.skip("no red-lake-only draw")
    d0, d1 = -np.log(lin), -np.log(faded)
    drop_dense, drop_pale = (d0 - d1)[:, :, :32].mean(), (d0 - d1)[:, :, 32:].mean()
    assert drop_dense > 0 and drop_dense > 2 * drop_pale
    assert (faded >= lin - 1e-6).all()  # fading only lightens: towards pale, never darker
