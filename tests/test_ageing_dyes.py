"""Behaviour of the chromogenic-dye ageing family (artrestore.ageing_families.dyes), checked against references
computed here from the photographic model (densities, first-order fading, stain), not against the module's output."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artrestore.ageing_families import ageing_damage
from artrestore.ageing_families.dyes import SEVERITIES, VERSION, damage, dye_fade


def _images(size=96):
    """Three small synthetic pictures: a colour gradient, saturated patches, a smooth noise texture."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    grad = np.stack([x, y, 1 - 0.5 * (x + y)], axis=2)
    patches = np.zeros((size, size, 3))
    colours = [(0.8, 0.1, 0.1), (0.1, 0.6, 0.2), (0.15, 0.2, 0.7), (0.9, 0.85, 0.3), (0.05, 0.05, 0.05),
               (0.95, 0.95, 0.95), (0.5, 0.5, 0.5), (0.6, 0.3, 0.6), (0.3, 0.7, 0.8)]
    q = size // 3
    for i, c in enumerate(colours):
        patches[(i // 3) * q:(i // 3 + 1) * q, (i % 3) * q:(i % 3 + 1) * q] = c
    rng = np.random.default_rng(7)
    small = rng.random((6, 6, 3))
    noise = np.kron(small, np.ones((size // 6, size // 6, 1))) * 0.7 + rng.random((size, size, 3)) * 0.3
    return [np.clip(np.rint(im * 255), 0, 255).astype(np.uint8) for im in (grad, patches, noise)]


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def _srgb_to_linear(v):
    v = np.asarray(v, np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb8(lin):
    lin = np.clip(lin, 0, 1)
    return np.rint(255 * np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055))


def test_shapes_types_record_and_registry():
    im = _images()[1]
    for sev in SEVERITIES:
        out, mask, rec = damage(im, sev, 3)
        assert out.dtype == np.uint8 and out.shape == im.shape
        assert mask.dtype == np.bool_ and mask.shape == im.shape[:2]
        assert rec["model"] == VERSION and rec["severity"] == sev and rec["seed"] == 3
        json.dumps(rec)
    for shape in ((32, 32, 3), (32, 77, 3), (90, 33, 3)):  # smallest sizes and both orientations
        small = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
        for seed in range(4):
            out, mask, _ = damage(small, "severe", seed)
            assert out.shape == shape and mask.shape == shape[:2]
    via_registry = ageing_damage("dyes", im, "moderate", 5)
    assert np.array_equal(via_registry[0], damage(im, "moderate", 5)[0])


def test_determinism_and_variety():
    a, b = _images()[0], _images()[2]
    out1, mask1, rec1 = damage(a, "moderate", 11)
    out2, mask2, rec2 = damage(a.copy(), "moderate", 11)
    assert out1.tobytes() == out2.tobytes() and np.array_equal(mask1, mask2) and rec1 == rec2
    assert not np.array_equal(out1, damage(a, "moderate", 12)[0])
    # Another picture with the same seed draws different damage (the image's bytes feed the generator).
    assert damage(b, "moderate", 11)[2]["fade"] != rec1["fade"]
    # No fixed direction of colour change: the fastest-fading dye varies over seeds.
    assert len({damage(a, "moderate", s)[2]["fastest_dye"] for s in range(30)}) == 3


def test_mask_consistent_with_record():
    im = _images()[2]
    seen_marks = seen_none = False
    for sev in SEVERITIES:
        for seed in range(8):
            _, mask, rec = damage(im, sev, seed)
            if not rec["marks"]:
                assert not mask.any()
                seen_none = True
            else:
                seen_marks = True
            assert mask.mean() < 0.2  # local marks, not a global change
    assert seen_marks and seen_none


def test_severity_ordering_and_psnr_ranges():
    means = {}
    for sev in SEVERITIES:
        means[sev] = np.mean([_psnr(damage(im, sev, s)[0], im) for im in _images() for s in range(6)])
    assert means["light"] > means["moderate"] + 3 > means["severe"] + 6
    assert 24 < means["light"] < 36 and 17 < means["moderate"] < 26 and 11 < means["severe"] < 20


def test_float_input_matches_uint8():
    im = _images()[0]
    out_u8 = damage(im, "severe", 4)[0]
    out_f32 = damage(im.astype(np.float32) / 255.0, "severe", 4)[0]
    assert np.array_equal(out_u8, out_f32)


@pytest.mark.parametrize("args, error, word", [
    ((np.zeros((40, 40, 3), np.uint8), "extreme", 1), ValueError, "severity"),
    ((np.zeros((40, 40, 3), np.uint8), "light", 1.5), TypeError, "seed"),
    ((np.zeros((40, 40, 3), np.uint8), "light", True), TypeError, "seed"),
    (([[0, 0, 0]], "light", 1), TypeError, "clean"),
    ((np.zeros((40, 40, 5), np.uint8), "light", 1), ValueError, "clean"),
    ((np.zeros((40, 40, 3), np.int16), "light", 1), TypeError, "clean"),
])
def test_bad_arguments(args, error, word):
    with pytest.raises(error, match=word):
        damage(*args)


def test_dye_fade_matches_per_pixel_reference():
    rng = np.random.default_rng(0)
    mix = np.array([[1.0, 0.07, 0.02], [0.15, 1.0, 0.1], [0.06, 0.35, 1.0]])
    dens = rng.uniform(0, 2.5, (5, 4, 3)).astype(np.float32)
    retained = np.array([0.5, 0.9, 0.7], np.float32)
    got, _ = dye_fade(dens, mix, retained)
    for d, g in zip(dens.reshape(-1, 3), got.reshape(-1, 3)):
        amounts = np.linalg.solve(mix, d.astype(np.float64))  # how much of each dye makes this density
        faded = np.maximum(amounts, 0) * retained + np.minimum(amounts, 0)
        np.testing.assert_allclose(g, mix @ faded, atol=2e-4)
    # With pure dyes (no cross-absorption) first-order fading scales every density: dense areas lose more.
    got, _ = dye_fade(dens, np.eye(3), retained)
    np.testing.assert_allclose(got, dens * retained, atol=1e-5)
    loss = dens - got
    for c in range(3):
        assert loss[..., c][dens[..., c] > 1.5].min() > loss[..., c][dens[..., c] < 0.5].max()


def _white_reference(rec):
    """Paper white after ageing: no dye to fade, only the D-min stain and the surface haze."""
    lin = 10.0 ** (-rec["stain"] * np.array(rec["stain_vec"]))
    lin = lin * (1 - rec["haze"]) + rec["haze"] * np.array([1.0, 0.98, 0.93])
    return _linear_to_srgb8(lin)


def _grey_reference(rec, value):
    """A flat neutral patch through the dye model, computed per colour from the record's draws."""
    mix = np.array(rec["mix"])
    dens = -np.log10(np.full(3, _srgb_to_linear(value)))
    amounts = np.linalg.solve(mix, dens)
    lost = np.maximum(amounts, 0) * (1 - (1 - rec["fade"]) ** np.array(rec["rates"]))
    if rec["shield"] > 0:
        x = np.maximum(rec["shield"] * np.maximum(amounts, 0), 1e-4)
        lost *= (1 - np.exp(-x)) / x
    dens = dens - mix @ lost + lost.sum() * rec["byproduct"] * np.array([0.1, 0.3, 1.0])
    dens = dens + rec["stain"] * np.array(rec["stain_vec"])
    lin = 10.0 ** (-np.maximum(dens, 0)) * (1 - rec["haze"]) + rec["haze"] * np.array([1.0, 0.98, 0.93])
    return _linear_to_srgb8(lin)


def test_flat_patches_follow_the_dye_model():
    checked = 0
    for value in (255, 90):
        im = np.full((48, 64, 3), value, np.uint8)
        for seed in range(80):
            for sev in SEVERITIES:
                out, mask, rec = damage(im, sev, seed)
                if rec["field"]["mode"] != "uniform" or rec["stain_field"]["mode"] != "uniform" or rec["marks"]:
                    continue
                want = _white_reference(rec) if value == 255 else _grey_reference(rec, value)
                assert np.abs(out.reshape(-1, 3).astype(float) - want).max() <= 1.0, (value, sev, seed)
                if value == 255:  # the stain is yellow to brown (or pinkish): blue is absorbed at least as much as red
                    assert want[2] <= want[0] and want[2] < 255 or rec["stain"] < 0.01
                checked += 1
    assert checked >= 10


def test_dense_areas_fade_more():
    """Interleaved dark and light grey stripes: the fastest dye's channel loses more density in the dark stripes."""
    im = np.empty((96, 96, 3), np.uint8)
    im[:, 0::8], im[:, 1::8], im[:, 2::8], im[:, 3::8] = 50, 50, 50, 50
    im[:, 4::8], im[:, 5::8], im[:, 6::8], im[:, 7::8] = 210, 210, 210, 210
    dark = np.zeros((96, 96), bool)
    for k in range(4):
        dark[:, k::8] = True
    for seed in range(10):
        out, mask, rec = damage(im, "severe", seed)
        ch = ("cyan", "magenta", "yellow").index(rec["fastest_dye"])
        dens_in = -np.log10(np.maximum(_srgb_to_linear(im[..., ch]), 1e-3))
        dens_out = -np.log10(np.maximum(_srgb_to_linear(out[..., ch]), 1e-3))
        change = dens_out - dens_in
        keep = ~mask
        assert change[dark & keep].mean() < change[~dark & keep].mean() - 0.05, seed
