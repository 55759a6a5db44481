"""Generic colour and tone randomisation for training pairs (the ``jitter`` training family).

``colour_jitter(clean, severity, seed) -> (jittered, record)``: ``clean`` is uint8 H x W x 3 RGB
(float32 in [0, 1] and grayscale accepted, checked by ``_validate.as_rgb``); returns the uint8 image
after a random photometric transform and a JSON-serialisable record of every draw. The training
family ``jitter`` (``unet_broad_data.damage_one``) is the broad damage model applied to this
image, with the untouched clean image as the target.

Why: the broad model's tone damage is a few fixed directions (fading toward a paper tone, four cast
gains, sepia), and every network and colour map fitted on it learned those directions and lost on
another generator's colour damage (docs/chain.md, "A colour map with context?"). This adds the
generic photometric augmentations of image-restoration and recognition training (brightness,
contrast, saturation and hue jitter as in torchvision's ``ColorJitter``, and a white-balance error
that varies smoothly over the picture), at severity-scaled strengths, so the colour a network must
undo is not one generator's. Per-channel tone curves and colour-mixing matrices are left out on
purpose: they are the proxy family's ageing effects (``artrestore.proxy_family``), which must stay
unseen for that family to choose honestly. Nothing here is modelled on the check family.

Units: ``brightness`` is an offset in levels (0-255), ``contrast`` a gain about the image's mean
luma, ``saturation`` a gain of the chroma (YCrCb), ``hue`` a rotation of the chroma plane in
degrees, ``balance`` the standard deviation of the log per-channel gain of the white-balance field
and ``field_px`` its feature size in pixels at a 512 px short side.
"""
from __future__ import annotations

import hashlib

import numpy as np

from artrestore._validate import damage_input
from artrestore.training.damage_draw import smooth_field
from artrestore.training.damage_ranges import SEVERITIES

__all__ = ["colour_jitter", "JITTER_RANGES", "JITTER_PROBABILITY", "JITTER_VERSION"]

JITTER_VERSION = "jitter-1"
_SALT = 0x717733  # keeps these draws apart from the broad model's, seeded with the same numbers
# Each operation occurs with this probability (at least one always does), in this order.
JITTER_PROBABILITY = 0.6
_OPS = ("brightness", "contrast", "saturation", "hue", "balance")
# Per severity: operation -> (low, high) of its strength (brightness and hue: a magnitude; the sign is drawn).
JITTER_RANGES = {
    "light": {"brightness": (0.0, 8.0), "contrast": (0.9, 1.06), "saturation": (0.8, 1.12),
              "hue": (0.0, 4.0), "balance": (0.0, 0.03), "field_px": (128.0, 1024.0)},
    "moderate": {"brightness": (0.0, 18.0), "contrast": (0.78, 1.08), "saturation": (0.55, 1.2),
                 "hue": (0.0, 10.0), "balance": (0.0, 0.07), "field_px": (128.0, 1024.0)},
    "severe": {"brightness": (0.0, 32.0), "contrast": (0.62, 1.1), "saturation": (0.3, 1.25),
               "hue": (0.0, 18.0), "balance": (0.0, 0.12), "field_px": (128.0, 1024.0)},
}
assert set(JITTER_RANGES) == set(SEVERITIES)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _generator(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=8).digest()
    return np.random.default_rng([_SALT, int(seed) & 0xFFFFFFFF, SEVERITIES.index(severity),
                                  int.from_bytes(digest, "little")])


def _chroma(x: np.ndarray, gain: float, degrees: float) -> np.ndarray:
    """Scale the chroma of float RGB ``x`` (levels) by ``gain`` and rotate it by ``degrees``, luma kept."""
    luma = x @ _LUMA
    cb, cr = (x[..., 2] - luma) * 0.564, (x[..., 0] - luma) * 0.713
    a = np.deg2rad(degrees)
    cb, cr = gain * (cb * np.cos(a) - cr * np.sin(a)), gain * (cb * np.sin(a) + cr * np.cos(a))
    r, b = luma + cr / 0.713, luma + cb / 0.564
    g = (luma - 0.299 * r - 0.114 * b) / 0.587
    return np.stack([r, g, b], axis=-1)


def colour_jitter(clean, severity: str = "moderate", seed: int = 0) -> tuple[np.ndarray, dict]:
    """Jitter ``clean``'s brightness, contrast, saturation, hue and white balance at ``severity``'s
    strengths; returns ``(uint8 H x W x 3, record)``. The same (image, severity, seed), the same output."""
    clean = damage_input(clean, severity, seed, SEVERITIES)
    rng = _generator(clean, severity, int(seed))
    ranges = JITTER_RANGES[severity]
    chosen = [op for op in _OPS if rng.random() < JITTER_PROBABILITY] or [_OPS[int(rng.integers(len(_OPS)))]]
    x = clean.astype(np.float32)
    steps = []
    for op in chosen:
        value = round(float(rng.uniform(*ranges[op])), 4)
        if op in ("brightness", "hue"):
            value = value if rng.random() < 0.5 else -value
        step = {"op": op, "value": value}
        if op == "brightness":
            x = x + value
        elif op == "contrast":
            mean = float((x @ _LUMA).mean())
            x = mean + value * (x - mean)
        elif op == "saturation":
            x = _chroma(x, value, 0.0)
        elif op == "hue":
            x = _chroma(x, 1.0, value)
        else:  # balance: per-channel log gains, a global part and a smooth part of equal spread
            h, w = x.shape[:2]
            feature = round(float(rng.uniform(*ranges["field_px"])), 1) * min(h, w) / 512.0
            step["field_px"] = feature
            log_gain = np.stack([value * (rng.standard_normal() + smooth_field(rng, (h, w), feature))
                                 for _ in range(3)], axis=-1) / np.float32(np.sqrt(2.0))
            x = x * np.exp(log_gain).astype(np.float32)
        steps.append(step)
    jittered = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return jittered, {"model": JITTER_VERSION, "severity": severity, "seed": int(seed), "steps": steps}
