"""Whole-image tone damage of the broad model: fading, lifted blacks, colour casts, vignetting, paper texture.

Each primitive takes ``x`` (float32 H x W x 3, levels 0-255, RGB), a :class:`Draw` for its kind
(family in ``d.record['family']``) and ``scale`` (short side / 512), and returns the damaged image
(float32, may leave 0-255; the caller clips).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.training.damage_draw import Draw, smooth_field

__all__ = ["fade", "lift", "cast", "vignette", "paper"]

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def fade(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Contrast loss: toward a paper tone, toward the image mean, by a compressed tone curve, or per channel."""
    family = d.record["family"]
    amount = d.uniform("amount")
    if family == "paper":
        warm = d.uniform("tone")
        tone = np.array([warm, warm * 0.97, warm * 0.88], np.float32)
        return x * (1 - amount) + amount * tone
    if family == "mean":
        return x * (1 - amount) + amount * x.reshape(-1, 3).mean(axis=0)
    if family == "curve":
        # The curve's ends move in (a dull black and a dull white), its middle bends by gamma.
        gamma = d.uniform("gamma")
        low, high = 255.0 * amount * 0.5, 255.0 * (1 - amount * 0.5)
        return low + (high - low) * cv2.pow(np.clip(x * np.float32(1 / 255.0), 0, 1), gamma)
    # channel: dyes fade at different rates, each channel toward the paper tone by its own amount.
    # The step's ``amount`` is then the first channel's; each channel's is in ``detail``.
    tone = d.uniform("tone")
    amounts = np.array([amount] + [d.uniform("amount", into=d.detail()) for _ in range(2)], np.float32)
    d.record["detail"].insert(0, {"amount": amount})
    return x * (1 - amounts) + amounts * np.float32(tone)


def lift(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Lifted blacks (flare, a milky print): shadows rise by up to ``black`` levels, whites stay."""
    black = d.uniform("black")
    weight = 1 - x / 255.0
    if d.record["family"] == "toe":
        weight = cv2.pow(np.clip(weight, 0, 1), d.uniform("toe"))
    return x + black * weight


_CAST_GAINS = {  # per-channel gains at strength 1 (the strength scales the departure from 1)
    "yellowing": (0.25, 0.05, -1.0), "magenta": (0.3, -1.0, 0.2), "cyan": (-1.0, 0.1, 0.2),
    "green": (-0.5, 0.3, -0.6),
}


def cast(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Colour cast: sepia toning (a mix toward a brown monochrome) or a per-channel gain."""
    family = d.record["family"]
    strength = d.uniform("strength")
    if family == "sepia":
        luma = x @ _LUMA
        sepia = luma[..., None] * np.array([1.08, 0.86, 0.62], np.float32)
        mix = min(1.0, 2.0 * strength)
        return x * (1 - mix) + sepia * mix
    gains = 1 + strength * np.array(_CAST_GAINS[family], np.float32)
    return x * gains


def vignette(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Darkened corners: gain 1 - strength * r**falloff, r the distance from a (possibly offset) centre."""
    h, w = x.shape[:2]
    strength, falloff = d.uniform("strength"), d.uniform("falloff")
    cx, cy = 0.5, 0.5
    if d.record["family"] == "offset":
        cx, cy = 0.5 + d.uniform("offset_x"), 0.5 + d.uniform("offset_y")
    ys = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - cy) ** 2
    xs = (np.arange(w, dtype=np.float32) / max(w - 1, 1) - cx) ** 2
    r = np.sqrt(ys[:, None] + xs[None, :]) / np.float32(np.sqrt(0.5))
    gain = 1 - strength * np.clip(r, 0, 1.5) ** falloff
    return x * gain[..., None]


def paper(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Paper or canvas texture multiplied in: fibres, mottling or laid lines."""
    h, w = x.shape[:2]
    family = d.record["family"]
    strength = d.uniform("strength")
    grain = d.uniform("grain_px") * scale
    if family == "fibre":
        along = d.choice("orientation")
        base = d.rng.standard_normal((h, w), dtype=np.float32)
        sx, sy = (grain * 3, grain * 0.6) if along == "horizontal" else (grain * 0.6, grain * 3)
        texture = cv2.GaussianBlur(base, (0, 0), sigmaX=sx, sigmaY=sy)
        texture /= max(float(texture.std()), 1e-6)
    elif family == "mottled":
        texture = smooth_field(d.rng, (h, w), grain * 8) + 0.5 * smooth_field(d.rng, (h, w), grain)
        texture /= max(float(texture.std()), 1e-6)
    else:  # laid: the parallel wire lines of hand-made paper over a fine fibre noise
        period = d.uniform("period_px") * scale
        along = d.choice("orientation")
        coord = np.arange(h if along == "horizontal" else w, dtype=np.float32)
        lines = np.sin(2 * np.pi * coord / period).astype(np.float32)
        lines = lines[:, None] if along == "horizontal" else lines[None, :]
        texture = np.broadcast_to(lines, (h, w)) + 0.7 * smooth_field(d.rng, (h, w), grain)
        texture = texture / max(float(texture.std()), 1e-6)
    return x * (1 + strength * texture)[..., None]
