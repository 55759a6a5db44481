"""Cheap damage measurements for choosing the chain's parameters: RGB image in, a float vector out.

``chain_features(image)`` gives ``CHAIN_FEATURE_NAMES`` in order (units in the names):

- ``noise_sigma``: the blind luma noise estimate (levels, ``denoise.estimate_noise``);
- ``black_level`` / ``white_level``: the darkest channel's 0.5 % and the brightest channel's 99.5 %
  percentile (levels): fading lifts the first and lowers the second;
- ``cast_r`` / ``cast_g`` / ``cast_b``: shades-of-grey (p = 6) log gains that would neutralise the
  image, no dead zone (a scene's own colour and a cast both show here);
- ``saturation``: mean (max - min) / (max + 1) over the pixels;
- ``thin_dark_60`` / ``thin_dark_120`` / ``thin_bright_60`` / ``thin_bright_120``: fraction of pixels
  whose black-hat / top-hat (square of 7 px at 512 px) exceeds 60 / 120 levels: scratches, cracks,
  spots - and thin texture, which the forest learns to tell apart from the rest;
- ``r_p1`` ... ``b_p99``: each channel's 1, 5, 50, 95 and 99 % percentiles (levels): the tone and
  colour distribution the learned colour map reads.

About 3 ms at 512 px; computed on at most 512 px (area-resized), so the cost is bounded.
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore._resize import shrink_to
from artrestore._validate import as_rgb, to_uint8
from artrestore.chain.colour import estimate_colour
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.lines import thin_residue

CHAIN_FEATURE_NAMES: tuple[str, ...] = (
    "noise_sigma", "black_level", "white_level", "cast_r", "cast_g", "cast_b", "saturation",
    "thin_dark_60", "thin_dark_120", "thin_bright_60", "thin_bright_120",
    *(f"{c}_p{q}" for c in "rgb" for q in (1, 5, 50, 95, 99)),
)
_PERCENTILES = (0.01, 0.05, 0.5, 0.95, 0.99)
_SIZE = 512


def chain_features(image, *, noise_sigma: float | None = None) -> np.ndarray:
    """``CHAIN_FEATURE_NAMES`` of an RGB image as a float32 vector (``noise_sigma``: reuse an estimate)."""
    image = as_rgb(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    small = shrink_to(image, _SIZE)
    noise = estimate_noise(image) if noise_sigma is None else float(noise_sigma)
    raw = estimate_colour(small, black_tolerance=0, cast_tolerance=0, white_tolerance=0)
    hist = np.stack([cv2.calcHist([small], [c], None, [256], [0, 256]).ravel() for c in range(3)])
    cdf = np.cumsum(hist, axis=1) / hist.sum(axis=1, keepdims=True)
    black = min(float(np.searchsorted(cdf[c], 0.005)) for c in range(3))
    white = max(float(np.searchsorted(cdf[c], 0.995)) for c in range(3))
    x = small.reshape(-1, 3)[::3]
    r, g, b = (x[:, c].astype(np.float32) for c in range(3))
    top, bottom = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    saturation = float(np.mean((top - bottom) / (top + 1)))
    # An all-black image has no white to keep, so its gains are all 0: read that as no cast, not 0 / 0.
    gain = np.maximum(raw.gain.astype(np.float64), 1e-6)
    log_gain = np.log(gain / gain.mean())
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    dark, bright = thin_residue(gray, max(1, round(3 * min(small.shape[:2]) / 512)))
    percentiles = [float(np.searchsorted(cdf[c], q)) for c in range(3) for q in _PERCENTILES]
    return np.array([noise, black, white, *log_gain, saturation,
                     (dark > 60).mean(), (dark > 120).mean(), (bright > 60).mean(), (bright > 120).mean(),
                     *percentiles], np.float32)


__all__ = ["CHAIN_FEATURE_NAMES", "chain_features"]
