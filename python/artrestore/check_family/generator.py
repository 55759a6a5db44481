"""``check_damage(clean, severity, seed)``: the check family's damage for one image.

In: a clean RGB image (uint8 H x W x 3 or float32 in [0, 1]; grayscale is replicated), a severity
(``light``, ``moderate``, ``severe``), an integer seed. Out: ``(damaged uint8 H x W x 3, mask
bool H x W, record)``; the mask marks pixels at least ``COVERAGE_FOR_MASK`` covered by scratches,
cracks or specks (dust, foxing, hairs); the record (JSON-serialisable) holds the latent level, and
per effect its variant and parameters. Deterministic per (image, severity, seed).

The image's level ``t`` is drawn in its severity's interval; a random number of effects (within
``EFFECT_COUNT``) is drawn without replacement and applied in one fixed physical order: the
object's ageing, its marks, then the capture.
"""
from __future__ import annotations

import hashlib

import numpy as np

from artrestore._validate import as_rgb, damage_arguments
from artrestore.check_family import colour, marks, optics
from artrestore.check_family.levels import COVERAGE_FOR_MASK, EFFECT_COUNT, EFFECTS, MARK_EFFECTS, SEVERITY_LEVEL, Knob

__all__ = ["check_damage", "CHECK_FAMILY_VERSION", "ORDER"]

CHECK_FAMILY_VERSION = "check-1"
ORDER = ("dye_fade", "lab_flatten", "white_balance", "blotches", "texture", "cracks", "scratches", "specks",
         "vignette", "blur", "downscale", "noise", "compression")
_APPLY = {"dye_fade": colour.dye_fade, "lab_flatten": colour.lab_flatten, "white_balance": colour.white_balance,
          "texture": colour.texture, "vignette": colour.vignette, "blotches": marks.blotches,
          "cracks": marks.cracks, "scratches": marks.scratches, "specks": marks.specks, "blur": optics.blur,
          "downscale": optics.downscale, "noise": optics.noise, "compression": optics.compression}
assert set(ORDER) == set(EFFECTS) == set(_APPLY)


def _rng(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    h = hashlib.sha256()
    h.update(f"check|{severity}|{seed}|{image.shape}|".encode())
    h.update(np.ascontiguousarray(image).data)
    return np.random.Generator(np.random.PCG64DXSM(int.from_bytes(h.digest()[:16], "big")))


def check_damage(clean, severity: str = "moderate", seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Damage ``clean`` with the check family; returns ``(damaged, mask, record)``."""
    damage_arguments(severity, seed, tuple(SEVERITY_LEVEL))
    clean = as_rgb(clean, name="clean")
    if clean.dtype == np.uint8:
        img = clean.astype(np.float32) / 255
    else:
        img = np.clip(clean, 0, 1)
    key = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    rng = _rng(key, severity, int(seed))
    level = float(rng.uniform(*SEVERITY_LEVEL[severity]))
    low, high = EFFECT_COUNT[severity]
    picked = set(rng.choice(len(ORDER), size=int(rng.integers(low, high + 1)), replace=False).tolist())
    unit = min(img.shape[:2]) / 512.0
    mask_cover = np.zeros(img.shape[:2], np.float32)
    effects = []
    for index, effect in enumerate(ORDER):
        if index not in picked:
            continue
        knob = Knob(rng, effect, level)
        out = _APPLY[effect](img, knob, unit)
        if effect in MARK_EFFECTS:
            out, coverage = out
            np.maximum(mask_cover, coverage, out=mask_cover)
        img = np.clip(out, 0, 1).astype(np.float32, copy=False)
        effects.append(knob.record)
    damaged = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    mask = mask_cover >= COVERAGE_FOR_MASK
    record = {"family": CHECK_FAMILY_VERSION, "severity": severity, "seed": int(seed), "level": round(level, 5),
              "shape": list(img.shape[:2]), "effects": effects, "mask_fraction": round(float(mask.mean()), 6)}
    return damaged, mask, record
