"""Check-family colour and tone effects: dye fading in density space, Lab flattening, white balance
errors, canvas/pulp texture, cos^4 vignetting.

Each takes ``img`` (float32 H x W x 3 RGB in [0, 1]), a :class:`Knob` (parameters and variant)
and ``unit`` (short side / 512), and returns a float32 image (the caller clips to [0, 1]).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.check_family.fields import fbm, value_noise
from artrestore.check_family.levels import Knob

__all__ = ["dye_fade", "lab_flatten", "white_balance", "texture", "vignette"]


def dye_fade(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Dye loss in optical density (cyan fades fastest) plus a yellow base fog; or all layers bleached alike."""
    density = -np.log10(np.maximum(img, 1 / 512))
    fog = knob["fog"]
    if knob.variant == "chromogenic":
        keep = 1 - np.array([knob["cyan_loss"], knob["magenta_loss"], knob["yellow_loss"]], np.float32)
        density = density * keep + fog * np.array([0.15, 0.35, 1.0], np.float32)
    else:  # bleached: every dye layer loses density alike (light fading), the base fogs a little grey
        loss = 0.8 * knob["cyan_loss"]
        density = density * (1 - loss) + fog * np.array([0.35, 0.4, 0.6], np.float32)
    return np.power(np.float32(10.0), -density).astype(np.float32)


def lab_flatten(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Lightness pulled toward its median and chroma reduced in CIELAB (globally or patchily)."""
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    light_keep, chroma_keep = knob["lightness_keep"], knob["chroma_keep"]
    if knob.variant == "local":
        patch = np.clip(0.5 + 0.35 * value_noise(knob.rng, img.shape[:2], 90 * unit), 0, 1)
        light_keep = 1 - (1 - light_keep) * 2 * patch
        chroma_keep = 1 - (1 - chroma_keep) * 2 * patch
    median = np.float32(np.median(lab[::4, ::4, 0]))
    lab[..., 0] = median + (lab[..., 0] - median) * light_keep
    lab[..., 1] *= chroma_keep
    lab[..., 2] *= chroma_keep
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)


def white_balance(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """A shift of a*/b* in a random hue direction, or a colour-temperature error (warm more often)."""
    if knob.variant == "lab_shift":
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
        hue = float(knob.rng.uniform(0, 2 * np.pi))
        knob.record["hue_deg"] = round(float(np.degrees(hue)), 2)
        lab[..., 1] += np.float32(knob["shift"] * np.cos(hue))
        lab[..., 2] += np.float32(knob["shift"] * np.sin(hue))
        return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    direction = -1 if knob.rng.random() < 0.7 else 1
    knob.record["warm"] = direction < 0
    ratio = (6500.0 + direction * knob["kelvin_shift"]) / 6500.0
    gains = np.array([ratio ** -0.55, ratio ** -0.08, ratio ** 1.1], np.float32)
    return img * (gains / gains[1])


def texture(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Canvas weave (crossed gratings with irregular threads) or paper pulp, multiplied in."""
    h, w = img.shape[:2]
    depth = knob["depth"]
    if knob.variant == "canvas":
        pitch = float(knob.rng.uniform(3.5, 7.0)) * unit
        knob.record["pitch_px"] = round(pitch, 3)
        wobble = 0.6 * value_noise(knob.rng, (h, w), 30 * unit)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        weave = np.sin(2 * np.pi * (xx + wobble) / pitch) * np.sin(2 * np.pi * (yy - wobble) / pitch)
        pattern = 0.8 * weave + 0.2 * value_noise(knob.rng, (h, w), 2.0)
    else:
        pattern = fbm(knob.rng, (h, w), 24 * unit, octaves=5)
    return img * (1 + depth * pattern)[..., None]


def vignette(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Natural vignetting of a lens: gain cos(theta)**4, tan(theta) = r / focal (r in half-diagonals)."""
    h, w = img.shape[:2]
    yy = (np.arange(h, dtype=np.float32) - (h - 1) / 2)[:, None]
    xx = (np.arange(w, dtype=np.float32) - (w - 1) / 2)[None, :]
    r = np.sqrt(yy * yy + xx * xx) / np.float32(0.5 * np.hypot(h, w))
    gain = 1 / (1 + (r / np.float32(knob["focal"])) ** 2) ** 2  # cos^4(atan(u)) = 1 / (1 + u^2)^2
    return img * gain[..., None]
