"""The ``jitter`` training family's colour randomisation (``training.damage_jitter``): each operation
against a NumPy reference of what it claims, reproducibility, strengths growing with severity, and
argument checks with the damage generators' messages."""
from __future__ import annotations

import numpy as np
import pytest

from artrestore.training import damage_jitter
from artrestore.training.damage_jitter import JITTER_RANGES, colour_jitter


def _photo(seed=0, shape=(96, 128)):
    import cv2

    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(30, 226, (*shape, 3), dtype=np.uint8), (0, 0), 2)


def test_same_inputs_same_output_and_a_record_that_names_every_step():
    clean = _photo()
    a, record = colour_jitter(clean, "severe", 4)
    b, _ = colour_jitter(clean, "severe", 4)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and a.shape == clean.shape
    assert record["model"] == damage_jitter.JITTER_VERSION and record["steps"]
    for step in record["steps"]:
        low, high = JITTER_RANGES["severe"][step["op"]]
        assert low <= abs(step["value"]) <= high
    assert not np.array_equal(a, colour_jitter(clean, "severe", 5)[0])


def test_saturation_keeps_luma_and_scales_chroma_like_a_ycbcr_reference():
    x = _photo(1).astype(np.float32)
    out = damage_jitter._chroma(x, 0.5, 0.0)
    luma = lambda im: im @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
    np.testing.assert_allclose(luma(out), luma(x), atol=1e-3)
    # Halving the chroma halves every channel's distance from the luma.
    np.testing.assert_allclose(out - luma(out)[..., None], 0.5 * (x - luma(x)[..., None]), atol=1e-3)


def test_a_full_turn_of_hue_is_the_identity_and_grey_has_no_hue():
    x = _photo(2).astype(np.float32)
    np.testing.assert_allclose(damage_jitter._chroma(x, 1.0, 360.0), x, atol=1e-3)
    grey = np.full((8, 8, 3), 117, np.float32)
    np.testing.assert_allclose(damage_jitter._chroma(grey, 1.0, 33.0), grey, atol=1e-3)


def test_stronger_severity_moves_colour_further_on_average():
    clean = _photo(3)
    change = {s: np.mean([np.abs(colour_jitter(clean, s, k)[0].astype(float) - clean).mean() for k in range(12)])
              for s in ("light", "moderate", "severe")}
    assert change["light"] < change["moderate"] < change["severe"]
    assert change["light"] < 6.0  # light jitter is a small colour change, in levels


@pytest.mark.parametrize("severity, seed, error", [("worst", 0, ValueError), ("light", 1.5, TypeError)])
def test_bad_arguments_are_refused_by_name(severity, seed, error):
    with pytest.raises(error, match="severity|seed"):
        colour_jitter(_photo(), severity, seed)
