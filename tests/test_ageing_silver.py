"""Behaviour of the ``silver`` ageing family (old black-and-white and toned prints) on small synthetic images.

References are computed here with NumPy from the physics the module claims (density rendering, fading that takes
low densities first), not from the module's own output.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from artrestore.ageing_families import silver
from artrestore.ageing_families.silver import SEVERITIES, VERSION, damage


def _images():
    """A colour gradient, coloured patches and a smooth noise texture, 96 x 128, about as colourful as photographs."""
    h, w = 96, 128
    y, x = np.mgrid[0:h, 0:w] / np.array([h - 1, w - 1])[:, None, None]
    lum = (0.1 + 0.8 * (0.6 * x + 0.4 * y))[:, :, None]
    grad = lum + 0.25 * np.dstack([x - 0.5, y - 0.5, 0.5 - x * y]) * lum
    patches = np.zeros((h, w, 3))
    cols = [(0.7, 0.35, 0.3), (0.35, 0.55, 0.3), (0.3, 0.4, 0.65), (0.85, 0.8, 0.55), (0.5, 0.5, 0.5), (0.1, 0.1, 0.1)]
    for i, c in enumerate(cols):
        patches[:, i * w // 6:(i + 1) * w // 6] = c
    rng = np.random.default_rng(7)
    noise = rng.random((h // 8, w // 8, 3)).repeat(8, 0).repeat(8, 1)
    noise = 0.5 * noise + 0.5 * rng.random((h, w, 3)) * 0.6
    return [np.clip(np.rint(im * 255), 0, 255).astype(np.uint8) for im in (grad, patches, noise)]


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def test_outputs_shape_dtype_and_record():
    img = _images()[0]
    for sev in SEVERITIES:
        out, mask, rec = damage(img, sev, 3)
        assert out.shape == img.shape and out.dtype == np.uint8
        assert mask.shape == img.shape[:2] and mask.dtype == bool
        assert rec["model"] == VERSION and rec["severity"] == sev and rec["seed"] == 3
        json.dumps(rec)  # every draw must be serialisable


def test_deterministic_and_seed_and_image_dependent():
    a, b, _ = _images()
    out1, m1, r1 = damage(a, "moderate", 11)
    out2, m2, r2 = damage(a.copy(), "moderate", 11)
    assert out1.tobytes() == out2.tobytes() and np.array_equal(m1, m2) and r1 == r2
    assert damage(a, "moderate", 12)[0].tobytes() != out1.tobytes()
    # The same seed on another image (even one pixel different) must draw other damage, not repeat one pattern.
    a2 = a.copy()
    a2[0, 0, 0] ^= 1
    assert damage(a2, "moderate", 11)[2] != r1
    assert damage(b, "moderate", 11)[2]["fade"] != r1["fade"]


def test_mask_consistent_with_record():
    img = _images()[2]
    saw_marks = saw_clean = False
    for seed in range(30):
        for sev in SEVERITIES:
            _, mask, rec = damage(img, sev, seed)
            if not rec["marks"]:
                assert not mask.any()
                saw_clean = True
            else:
                saw_marks = saw_marks or mask.any()
            assert mask.mean() < 0.5  # local marks stay local
    assert saw_marks and saw_clean


def test_severity_ordering_and_psnr_ranges():
    means = {}
    for sev in SEVERITIES:
        means[sev] = np.mean([_psnr(damage(im, sev, s)[0], im) for im in _images() for s in range(8)])
    assert means["light"] > means["moderate"] > means["severe"]
    assert 24 <= means["light"] <= 33
    assert 17 <= means["moderate"] <= 24
    assert 12 <= means["severe"] <= 18


def test_float_input_matches_uint8():
    img = _images()[1]
    out_u8 = damage(img, "severe", 5)[0]
    out_f32 = damage(img.astype(np.float32) / 255.0, "severe", 5)[0]
    assert np.array_equal(out_u8, out_f32)


def test_bad_arguments():
    img = _images()[0]
    with pytest.raises(ValueError, match="severity"):
        damage(img, "extreme", 0)
    with pytest.raises(TypeError, match="seed"):
        damage(img, "light", 1.5)
    with pytest.raises(TypeError, match="seed"):
        damage(img, "light", True)
    with pytest.raises(TypeError, match="clean"):
        damage(img.tolist(), "light", 0)
    with pytest.raises(TypeError, match="clean"):
        damage(img.astype(np.int32), "light", 0)
    with pytest.raises(ValueError, match="clean"):
        damage(np.zeros((8, 8, 5), np.uint8), "light", 0)


def _quiet(**over):
    """Severity settings with every effect off except those given (mark chances 0)."""
    base = dict(keep=(0.0, 0.0), fade=(0.0, 0.0), yellow=(0.0, 0.0), gamma=0.0, mirror=(0.0, 0.0, 0.0),
                fox=(0.0, 1, 1), tide=0.0, crease=0.0, cracks=(0.0, 1, 1), scratch=(0.0, 1, 1), pin=(0.0, 1, 1))
    base.update(over)
    return base


def test_grey_renders_in_process_tone(monkeypatch):
    """A flat grey of visual density D prints as 10**-(k_c * Dmax * tanh(D / Dmax) + paper) per channel."""
    monkeypatch.setitem(silver._SEV, "severe", _quiet())
    warm = {"salted_paper", "albumen", "sepia", "gelatin_warm"}
    seen = set()
    for level in (40, 110, 200):
        img = np.full((48, 64, 3), level, np.uint8)
        for seed in range(12):
            out, mask, rec = damage(img, "severe", seed)
            dens = -np.log10(level / 255.0)
            d = rec["dmax"] * np.tanh(dens / rec["dmax"])
            ref = 255.0 * 10.0 ** -(np.array(rec["k"]) * d + rec["paper_density"])
            assert np.abs(out.reshape(-1, 3).astype(float) - ref).max() <= 1.6, (rec["process"], level)
            assert not mask.any()
            if rec["process"] in warm:  # fine or sulfided silver absorbs blue: the print is warm
                assert out[0, 0, 0] > out[0, 0, 2]
            seen.add(rec["process"])
    assert len(seen) >= 3


def test_fading_takes_highlights_first(monkeypatch):
    """Fading removes a larger fraction of density from light tones than from dense ones (a step wedge)."""
    monkeypatch.setitem(silver._SEV, "severe", _quiet(fade=(0.6, 0.6)))
    levels = np.array([210, 150, 90, 40])  # densities ~0.08, 0.23, 0.45, 0.8
    wedge = np.repeat(np.tile(levels, 24), 2)[None, :].repeat(96, 0)  # interleaved columns share the fading field
    img = np.repeat(wedge[:, :, None], 3, 2).astype(np.uint8)
    for seed in range(6):
        out, _, rec = damage(img, "severe", seed)
        d_in = -np.log10(levels / 255.0)
        d_print = rec["dmax"] * np.tanh(d_in / rec["dmax"])
        g = out[:, :, 1].astype(float) / 255.0
        kept = []
        for i, lv in enumerate(levels):
            d_out = -np.log10(np.maximum(g[img[:, :, 1] == lv], 1 / 255)).mean() - rec["paper_density"]
            kept.append(d_out / (rec["k"][1] * d_print[i]))
        assert all(k < 0.97 for k in kept)
        assert np.all(np.diff(kept) > 0), kept  # the denser the tone, the more of its density remains
