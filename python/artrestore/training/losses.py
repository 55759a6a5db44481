"""Training losses for the U-Net, written with ``keras.ops`` only so they run on any Keras backend.

Inputs: ground truth ``y`` and prediction ``p``, float32 N x H x W x 3 in [0, 1]; output: a scalar.
``LOSSES`` is the one table of loss names (the CLI's ``--loss`` choices come from it):

- ``mse``; ``l1``; ``charbonnier``: mean sqrt((y - p)^2 + eps^2), eps = ``CHARBONNIER_EPS`` (an L1
  that is smooth at zero, the usual restoration loss of the NAFNet / BasicSR family);
- ``mse_ssim``: MSE + 0.2 (1 - SSIM), SSIM as ``metrics.ssim`` (11 x 11 Gaussian window, sigma 1.5,
  per channel, valid region only);
- ``mse_freq``: MSE + 0.05 x mean |FFT magnitude difference| / TILE;
- ``charbonnier_ssim``: Charbonnier + 0.2 (1 - SSIM);
- ``mse_ssim_freq``: all three. The frequency term rewards restoring the high frequencies blur
  removed, which MSE and SSIM alone let the net leave out (a smooth guess scores well on both).
- ``psnr``: minus the mean PSNR of the tiles in dB, each tile's squared error floored at
  ``PSNR_EPS`` (BasicSR / NAFNet's PSNRLoss). MSE over a batch weighs a severe tile's error ~25x a
  light one's, so a network trained on it may trade decibels on light damage for gains on severe
  damage; the reports average PSNR per image, and this loss weighs every tile's decibels alike.

``masked_loss(base, mask_weight, detector_weight)``: the broad-damage U-Net's loss, on ``y`` =
clean RGB + the damage mask (4 channels): the base loss, the error inside the mask (for a
``LOG_LOSSES`` base, in the same decibels: minus the PSNR inside each tile's mask), and with a
damage detector the mask it predicts (``p``'s fourth channel).
"""
from __future__ import annotations

import numpy as np

from artrestore.dl.arch import import_keras
from artrestore.dl.contract import TILE

__all__ = ["LOSSES", "LOG_LOSSES", "DEFAULT_LOSS", "BROAD_LOSS", "make_loss", "masked_loss"]

SSIM_WEIGHT = 0.2
CHARBONNIER_EPS = 1e-3
FREQ_WEIGHT = 0.05
# Squared-error floor of the PSNR loss: 1e-4 is 40 dB, past which a tile's error is invisible (the
# chain's do-no-harm bar is 38 dB); without it an almost clean tile's gradient grows without bound.
PSNR_EPS = 1e-4
DB = 10.0 / np.log(10.0)  # natural log -> decibels


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    return np.repeat(w[:, :, None, None], 3, axis=2).astype("float32")  # depthwise kernel


def _mse(ops, y, p):
    return ops.mean(ops.square(y - p))


def _l1(ops, y, p):
    return ops.mean(ops.abs(y - p))


def _charbonnier(ops, y, p):
    return ops.mean(ops.sqrt(ops.square(y - p) + CHARBONNIER_EPS ** 2))


def _ssim(ops, y, p):
    window = _gaussian_window()
    c1, c2 = 0.01**2, 0.03**2

    def blur(t):
        return ops.depthwise_conv(t, window, strides=1, padding="valid")

    mx, my = blur(y), blur(p)
    vx, vy, cxy = blur(y * y) - mx * mx, blur(p * p) - my * my, blur(y * p) - mx * my
    return ops.mean(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)))


def _freq(ops, y, p):
    # Channels first so the FFT runs over the spatial axes.
    yt, pt = ops.transpose(y, (0, 3, 1, 2)), ops.transpose(p, (0, 3, 1, 2))
    zeros = ops.zeros_like(yt)
    yr, yi = ops.fft2((yt, zeros))
    pr, pi = ops.fft2((pt, zeros))
    return ops.mean(ops.abs(ops.sqrt(yr * yr + yi * yi + 1e-8) - ops.sqrt(pr * pr + pi * pi + 1e-8))) / TILE


def _psnr(ops, y, p):
    per_tile = ops.mean(ops.square(y - p), axis=(1, 2, 3))
    return DB * ops.mean(ops.log(per_tile + PSNR_EPS))


# name -> loss(ops, y, p)
LOSSES = {
    "mse": _mse,
    "l1": _l1,
    "charbonnier": _charbonnier,
    "charbonnier_ssim": lambda ops, y, p: _charbonnier(ops, y, p) + SSIM_WEIGHT * (1 - _ssim(ops, y, p)),
    "mse_ssim": lambda ops, y, p: _mse(ops, y, p) + SSIM_WEIGHT * (1 - _ssim(ops, y, p)),
    "mse_freq": lambda ops, y, p: _mse(ops, y, p) + FREQ_WEIGHT * _freq(ops, y, p),
    "mse_ssim_freq": lambda ops, y, p: (_mse(ops, y, p) + SSIM_WEIGHT * (1 - _ssim(ops, y, p))
                                        + FREQ_WEIGHT * _freq(ops, y, p)),
    "psnr": _psnr,
}
# Losses in decibels (per tile): masked_loss scores the error inside the mask the same way.
LOG_LOSSES = frozenset({"psnr"})
DEFAULT_LOSS = "mse"
# The broad-damage U-Net's base loss (chosen on the seen family's validation split, issue 15).
BROAD_LOSS = "mse_ssim"


def make_loss(name: str = DEFAULT_LOSS):
    """The Keras loss function ``LOSSES[name]`` (named ``name``); ValueError for an unknown name."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    ops = import_keras().ops
    formula = LOSSES[name]

    def loss(y, p):
        return formula(ops, y, p)

    loss.__name__ = name
    return loss


def masked_loss(base_name: str, mask_weight: float, detector_weight: float = 0.0):
    """A loss on ``y_true`` = clean RGB + mask (4 channels): the named base loss on RGB plus
    ``mask_weight`` x the mean squared error over masked pixels. With ``detector_weight`` the
    prediction has a fourth channel, the detector's mask, scored by binary cross-entropy plus
    1 - soft Dice (the Dice term keeps a mask covering a few per cent of the pixels from collapsing
    to all-clear)."""
    ops = import_keras().ops
    base = make_loss(base_name)

    def loss(y, p):
        rgb, mask, restored = y[..., :3], y[..., 3:4], p[..., :3]
        if base_name in LOG_LOSSES:
            # Per tile; a tile without damage adds a constant (the floor), so no gradient.
            inside = (ops.sum(mask * ops.square(rgb - restored), axis=(1, 2, 3))
                      / (3.0 * ops.sum(mask, axis=(1, 2, 3)) + 1.0))
            inside = DB * ops.mean(ops.log(inside + PSNR_EPS))
        else:
            inside = ops.sum(mask * ops.square(rgb - restored)) / (3.0 * ops.sum(mask) + 1.0)
        total = base(rgb, restored) + mask_weight * inside
        if detector_weight:
            guess = ops.clip(p[..., 3:4], 1e-6, 1 - 1e-6)
            bce = -ops.mean(mask * ops.log(guess) + (1 - mask) * ops.log(1 - guess))
            dice = (2 * ops.sum(mask * guess) + 1.0) / (ops.sum(mask) + ops.sum(guess) + 1.0)
            total = total + detector_weight * (bce + 1 - dice)
        return total

    loss.__name__ = f"{base_name}_mask{mask_weight:g}" + (f"_det{detector_weight:g}" if detector_weight else "")
    return loss
