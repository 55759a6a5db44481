"""``proxy_damage``: the proxy family's generator (see the package docstring and ``levels``).

In: a clean RGB image (uint8 H x W x 3; float32 in [0, 1] and grayscale accepted, checked by
``artrestore._validate.as_rgb``), a severity (``light``, ``moderate``, ``severe``) and an integer
seed. Out: ``(damaged, mask, record)``: the damaged uint8 image, a bool H x W mask of the pixels a
mark covers at ``MASK_OPACITY`` or more (abrasion, tears, crazing, specks, losses), and a
JSON-serialisable record (version, severity, seed, the effects in order with their strengths and
parameters). The same (image, severity, seed) always gives the same output.

Order: the object's colour ages (shuffled), it is marked (shuffled), then it is reproduced (screen;
smear and rescan shuffled; speckle; posterize; JPEG last).
"""
from __future__ import annotations

import hashlib

import numpy as np

from artrestore._validate import damage_input
from artrestore.proxy_family import marks, reproduction, tone
from artrestore.proxy_family.levels import MARKS, MASK_OPACITY, PROBABILITY, SEVERITIES, STRENGTH, TONE

__all__ = ["proxy_damage", "PROXY_FAMILY_VERSION"]

PROXY_FAMILY_VERSION = "proxy-1"
_SALT = 0x9B0C7  # this family's own stream (other generators seeded with the same numbers differ)


def _generator(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).digest()
    return np.random.default_rng([_SALT, SEVERITIES.index(severity), int(seed) & 0xFFFFFFFF,
                                  int.from_bytes(digest[:8], "big")])


def _order(chosen: set[str], rng: np.random.Generator) -> list[str]:
    colour = [e for e in TONE if e in chosen]
    marked = [e for e in MARKS if e in chosen]
    optics = [e for e in ("smear", "rescan") if e in chosen]
    order = [colour[i] for i in rng.permutation(len(colour))] + [marked[i] for i in rng.permutation(len(marked))]
    order += [e for e in ("screen",) if e in chosen] + [optics[i] for i in rng.permutation(len(optics))]
    return order + [e for e in ("speckle", "posterize", "jpeg") if e in chosen]


def proxy_damage(clean, severity: str = "moderate", seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Damage ``clean``; returns ``(damaged uint8 H x W x 3, mark mask bool H x W, record)``."""
    clean = damage_input(clean, severity, seed, SEVERITIES)
    rng = _generator(clean, severity, int(seed))
    effects = {**tone.EFFECTS, **marks.EFFECTS, **reproduction.EFFECTS}
    chosen = {e for e in effects if rng.random() < PROBABILITY[severity][e]}
    h, w = clean.shape[:2]
    scale = min(h, w) / 512.0
    low, high = STRENGTH[severity]
    x = clean.astype(np.float32)
    mask = np.zeros((h, w), bool)
    steps = []
    for effect in _order(chosen, rng):
        strength = float(rng.uniform(low, high))
        result = effects[effect](x, strength, rng, scale)
        if effect in marks.EFFECTS:
            x, params, cover = result
            if cover is not None:
                mask |= cover >= MASK_OPACITY
        else:
            x, params = result
        x = np.clip(x, 0.0, 255.0).astype(np.float32, copy=False)
        steps.append({"effect": effect, "strength": round(strength, 4), **params})
    damaged = np.rint(x).astype(np.uint8)
    record = {"model": PROXY_FAMILY_VERSION, "severity": severity, "seed": int(seed), "shape": [h, w],
              "order": [s["effect"] for s in steps], "steps": steps, "mask_fraction": round(float(mask.mean()), 6)}
    return damaged, mask, record
