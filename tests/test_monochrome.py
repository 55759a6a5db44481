"""Monochrome in, monochrome out: the channel test, the luma against a NumPy reference, and the
restorer keeping a grayscale photograph gray on every path."""
from __future__ import annotations

import numpy as np
import pytest

from artrestore.monochrome import is_monochrome, to_monochrome


def test_is_monochrome_needs_every_pixel_neutral():
    gray = np.repeat(np.arange(60, dtype=np.uint8).reshape(6, 10)[..., None], 3, axis=2)
    assert is_monochrome(gray)
    gray[3, 4, 2] += 1
    assert not is_monochrome(gray)


def test_to_monochrome_is_the_bt601_luma_in_every_channel():
    rgb = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    reference = np.rint(rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))
    out = to_monochrome(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8 and is_monochrome(out)
    assert np.abs(out[..., 0].astype(int) - reference).max() <= 1


@pytest.fixture(scope="module")
def gray_damaged(astronaut):
    from artrestore.training.synthesis import synthesize_damage

    damaged = synthesize_damage(astronaut[::2, ::2].copy(), "moderate", seed=3)[0]
    return to_monochrome(damaged)


@pytest.mark.parametrize("strategy", ["classical", "ml_guided", "auto"])
def test_fast_paths_keep_a_grayscale_photograph_gray(gray_damaged, strategy):
    from artrestore import HybridRestorer

    restored, info = HybridRestorer(use_dl=False).restore(gray_damaged, strategy)
    assert is_monochrome(restored)
    assert info.get("monochrome") is (None if info["method"] == "none" else True)


def test_a_colour_image_is_not_made_gray(astronaut):
    from artrestore import HybridRestorer

    restored, info = HybridRestorer(use_dl=False).restore(astronaut[::2, ::2], "classical")
    assert "monochrome" not in info and not is_monochrome(restored)


@pytest.mark.dl
def test_the_unet_tint_on_a_grayscale_photograph_is_removed(gray_damaged):
    """The U-Net alone tints a grayscale input (its channels differ); the restorer returns the luma
    of exactly that output."""
    pytest.importorskip("onnxruntime")
    from artrestore import HybridRestorer

    restorer = HybridRestorer()
    restored, info = restorer.restore(gray_damaged, "dl")
    assert info["method"] == "deep_learning" and info["monochrome"] is True
    colour, _ = restorer._dl_restore(gray_damaged, info["decision"]["severity_probability"])
    assert not is_monochrome(colour)  # what the network alone returns
    np.testing.assert_array_equal(restored, to_monochrome(colour))
