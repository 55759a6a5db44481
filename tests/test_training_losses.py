"""The broad-damage U-Net's loss against NumPy: base loss, error inside the damage mask, detector term."""
from __future__ import annotations

import numpy as np
import pytest

from artrestore.training import losses

pytestmark = pytest.mark.dl


def test_masked_loss_is_base_loss_plus_weighted_error_inside_the_mask():
    rng = np.random.default_rng(3)
    clean = rng.random((2, 16, 16, 3)).astype(np.float32)
    pred = rng.random((2, 16, 16, 3)).astype(np.float32)
    mask = (rng.random((2, 16, 16, 1)) < 0.2).astype(np.float32)
    loss = losses.masked_loss("mse", 0.5)
    value = float(np.asarray(loss(np.concatenate([clean, mask], -1), pred)))
    sq = (clean - pred) ** 2
    expected = sq.mean() + 0.5 * (mask * sq).sum() / (3 * mask.sum() + 1)
    assert value == pytest.approx(expected, rel=1e-5)


def test_detector_term_is_cross_entropy_plus_one_minus_soft_dice():
    rng = np.random.default_rng(5)
    clean = rng.random((2, 16, 16, 3)).astype(np.float32)
    pred = rng.random((2, 16, 16, 4)).astype(np.float32)
    mask = (rng.random((2, 16, 16, 1)) < 0.2).astype(np.float32)
    value = float(np.asarray(losses.masked_loss("mse", 0.0, 0.3)(np.concatenate([clean, mask], -1), pred)))
    guess = pred[..., 3:]
    bce = -np.mean(mask * np.log(guess) + (1 - mask) * np.log(1 - guess))
    dice = (2 * (mask * guess).sum() + 1) / (mask.sum() + guess.sum() + 1)
    assert value == pytest.approx(np.mean((clean - pred[..., :3]) ** 2) + 0.3 * (bce + 1 - dice), rel=1e-5)


def test_charbonnier_is_a_smooth_l1_against_numpy():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(7)
    y = rng.random((2, 16, 16, 3)).astype(np.float32)
    p = rng.random((2, 16, 16, 3)).astype(np.float32)
    value = float(np.asarray(losses.LOSSES["charbonnier"](keras.ops, y, p)))
    assert value == pytest.approx(np.mean(np.sqrt((y - p) ** 2 + losses.CHARBONNIER_EPS ** 2)), rel=1e-5)
    # At a perfect prediction it is eps, not 0 (smooth), and it approaches L1 for large errors.
    assert float(np.asarray(losses.LOSSES["charbonnier"](keras.ops, y, y))) == pytest.approx(losses.CHARBONNIER_EPS)
    with_ssim = float(np.asarray(losses.LOSSES["charbonnier_ssim"](keras.ops, y, y)))
    assert with_ssim == pytest.approx(losses.CHARBONNIER_EPS, abs=1e-5)  # SSIM of identical tiles is 1


def test_psnr_loss_is_minus_the_mean_tile_psnr_with_a_floor():
    keras = pytest.importorskip("keras")
    from artrestore.metrics import psnr

    rng = np.random.default_rng(11)
    y = rng.random((3, 16, 16, 3)).astype(np.float32)
    noise = np.array([0.02, 0.1, 0.3], np.float32)[:, None, None, None]  # light to severe tiles
    p = np.clip(y + noise * rng.standard_normal(y.shape), 0, 1).astype(np.float32)
    value = float(np.asarray(losses.LOSSES["psnr"](keras.ops, y, p)))
    # metrics.psnr (uint8 scale) is the independent reference, its MSE plus the 1e-4 floor.
    reference = [psnr(np.rint(a * 255).astype(np.uint8), np.rint(b * 255).astype(np.uint8)) for a, b in zip(y, p)]
    assert value == pytest.approx(np.mean([10 * np.log10(10 ** (-r / 10) + losses.PSNR_EPS) for r in reference]),
                                  abs=0.05)
    exact = np.mean([10 * np.log10(((a - b) ** 2).mean() + losses.PSNR_EPS) for a, b in zip(y, p)])
    assert value == pytest.approx(exact, rel=1e-5)
    # A perfect prediction scores the floor (40 dB), not minus infinity.
    assert float(np.asarray(losses.LOSSES["psnr"](keras.ops, y, y))) == pytest.approx(-40.0, abs=1e-3)


def test_masked_psnr_loss_scores_the_mask_per_tile_in_decibels():
    rng = np.random.default_rng(13)
    clean = rng.random((2, 16, 16, 3)).astype(np.float32)
    pred = rng.random((2, 16, 16, 3)).astype(np.float32)
    mask = np.zeros((2, 16, 16, 1), np.float32)
    mask[0, 4:8] = 1  # the second tile has no damage: its mask term is the floor's constant
    value = float(np.asarray(losses.masked_loss("psnr", 0.5)(np.concatenate([clean, mask], -1), pred)))
    sq = (clean - pred) ** 2
    whole = np.mean([10 * np.log10(t.mean() + losses.PSNR_EPS) for t in sq])
    inside = [10 * np.log10((m * t).sum() / (3 * m.sum() + 1) + losses.PSNR_EPS) for m, t in zip(mask, sq)]
    assert value == pytest.approx(whole + 0.5 * np.mean(inside), rel=1e-5)
