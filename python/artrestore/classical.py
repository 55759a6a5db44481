"""Classical restoration operations backed by the C++ core.

All functions take an H x W x 3 ``uint8`` (or ``float32`` in [0, 1]) RGB image and return a new
image of the same shape and dtype. ``sharpen_sigma`` is in pixels, ``sharpen_strength`` is the
multiple of the detail (image - Gaussian blur) added back, ``threshold`` is in 8-bit levels.

Colour correction is grey-world white balance (each channel scaled so its mean equals the mean
of the three channel means, gains limited to [1/3, 3]) followed by one contrast stretch shared
by all channels that maps the ``clip_percent`` / ``100 - clip_percent`` percentiles of the
balanced pixels to 0 / 255 (stretch factor at most 8).
"""
from __future__ import annotations

import numpy as np

from artrestore import _core
from artrestore.analysis import as_rgb


def unsharp_mask(image, sharpen_sigma: float = 1.0, sharpen_strength: float = 1.0, threshold: float = 0.0) -> np.ndarray:
    """``image + strength * (image - GaussianBlur(image, sigma))`` where the detail exceeds ``threshold``."""
    return _core.unsharp_mask(as_rgb(image), float(sharpen_sigma), float(sharpen_strength), float(threshold))


def estimate_color_transform(image, *, white_balance: bool = True, stretch: bool = True, clip_percent: float = 0.5):
    """Per-channel ``(gains, offsets)`` of the colour correction (offsets in the image's units)."""
    gains, offsets = _core.estimate_color_transform(as_rgb(image), white_balance, stretch, float(clip_percent))
    return np.asarray(gains, np.float32), np.asarray(offsets, np.float32)


def color_correct(image, *, white_balance: bool = True, stretch: bool = True, clip_percent: float = 0.5) -> np.ndarray:
    """Grey-world white balance + joint percentile contrast stretch."""
    image = as_rgb(image)
    gains, offsets = _core.estimate_color_transform(image, white_balance, stretch, float(clip_percent))
    return _core.apply_color_transform(image, gains, offsets)


def color_correct_sharpen(
    image,
    apply_color_correction: bool = True,
    sharpen_sigma: float = 1.0,
    sharpen_strength: float = 1.0,
    threshold: float = 0.0,
    *,
    white_balance: bool = True,
    stretch: bool = True,
    clip_percent: float = 0.5,
) -> np.ndarray:
    """The seed's "colour + sharpen" in one fused streaming pass of the core."""
    return _core.color_correct_sharpen(
        as_rgb(image), bool(apply_color_correction), float(sharpen_sigma), float(sharpen_strength),
        float(threshold), white_balance, stretch, float(clip_percent),
    )
