"""The broad damage model (training only): ``broad_damage(clean, severity, seed)``.

In: a clean RGB image (uint8 H x W x 3, or float32 in [0, 1]; grayscale is replicated), a
severity (``light``, ``moderate``, ``severe``) and an integer seed. Out:
``(damaged, mask, record)``: the damaged uint8 H x W x 3 image; a bool H x W mask of the pixels
that line and spot damage (scratches, cracks, creases, dust, hairs, foxing) changed by at least
``MASK_LEVEL`` levels when it was applied (free labels for a detector); and a JSON-serialisable
record of every draw (kind, family, parameters, order). The same (image, severity, seed) always
gives the same output.

Each of the 18 kinds in ``damage_ranges.KINDS`` is applied with its severity's probability, with
one of its families and parameters from its severity's ranges. Order follows the life of a
print where physics fixes it and is shuffled where it does not: first the object ages (fading,
casts, stains, foxing, grain, scratches, cracks, creases... in random order), then dust and hairs
settle on the scanner glass, then the capture (vignetting; blur and resampling in random order;
sensor noise; JPEG last).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore._validate import damage_input
from artrestore.training import damage_capture, damage_lines, damage_stains, damage_tone
from artrestore.training.damage_draw import Draw, generator_for
from artrestore.training.damage_ranges import (
    DAMAGE_MODEL_VERSION,
    FAMILIES,
    KINDS,
    LINE_SPOT_KINDS,
    MASK_LEVEL,
    PROBABILITY,
    RANGES,
    SEVERITIES,
)

__all__ = ["broad_damage", "damage_order", "PRIMITIVES"]

PRIMITIVES = {
    "fade": damage_tone.fade, "lift": damage_tone.lift, "cast": damage_tone.cast, "paper": damage_tone.paper,
    "vignette": damage_tone.vignette, "stains": damage_stains.stains, "watermark": damage_stains.watermark,
    "foxing": damage_stains.foxing, "scratches": damage_lines.scratches, "cracks": damage_lines.cracks,
    "crease": damage_lines.crease, "dust": damage_lines.dust, "hairs": damage_lines.hairs,
    "grain": damage_capture.grain, "blur": damage_capture.blur, "resample": damage_capture.resample,
    "noise": damage_capture.noise, "jpeg": damage_capture.jpeg,
}
# The object ages in any order; dust and hairs land on the glass afterwards; the capture is ordered
# except that a blurred print may be rescanned small or a small scan blurred.
_OBJECT = ("fade", "lift", "cast", "stains", "watermark", "foxing", "paper", "grain", "scratches", "cracks", "crease")
_GLASS = ("dust", "hairs")
# Line/spot kinds whose primitive returns (image, mask) because part of their change is not a line.
_OWN_MASK = frozenset({"crease"})
assert set(PRIMITIVES) == set(KINDS) and set(_OBJECT) | set(_GLASS) | {"vignette", "blur", "resample", "noise",
                                                                       "jpeg"} == set(KINDS)


def damage_order(chosen: set[str], rng: np.random.Generator) -> list[str]:
    """The order in which the ``chosen`` kinds are applied (shuffled within each stage)."""
    obj = [k for k in _OBJECT if k in chosen]
    glass = [k for k in _GLASS if k in chosen]
    optics = [k for k in ("blur", "resample") if k in chosen]
    order = [obj[i] for i in rng.permutation(len(obj))] + [glass[i] for i in rng.permutation(len(glass))]
    order += [k for k in ("vignette",) if k in chosen] + [optics[i] for i in rng.permutation(len(optics))]
    return order + [k for k in ("noise", "jpeg") if k in chosen]


def broad_damage(clean, severity: str = "moderate", seed: int = 0, *,
                 kinds=None, families: dict | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Damage ``clean``; returns ``(damaged uint8 H x W x 3, line/spot mask bool H x W, record)``.

    ``kinds``: apply exactly these kinds (each for sure, at ``severity``'s ranges) instead of
    drawing which kinds occur; ``families``: {kind: family} fixes the family of those kinds. Both
    isolate one kind or family (contact sheet, tests, ablations).
    """
    clean = damage_input(clean, severity, seed, SEVERITIES)
    rng = generator_for(clean, severity, int(seed))
    if kinds is None:
        draws = rng.random(len(KINDS))
        chosen = {k for k, u in zip(KINDS, draws) if u < PROBABILITY[severity][k]}
    else:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}; unknown: {unknown}")
        chosen = set(kinds)

    families = dict(families or {})
    for kind, family in families.items():
        if family not in FAMILIES.get(kind, ()):
            raise ValueError(f"families: {kind!r} has no family {family!r}; "
                             f"families are {FAMILIES.get(kind, FAMILIES)}")

    h, w = clean.shape[:2]
    scale = min(h, w) / 512.0
    x = clean.astype(np.float32)
    mask = np.zeros((h, w), bool)
    steps = []
    for kind in damage_order(chosen, rng):
        options = FAMILIES[kind]
        family = options[int(rng.integers(len(options)))]  # drawn even when fixed: same stream either way
        draw = Draw(rng, RANGES[severity][kind], kind, families.get(kind, family))
        before = x.copy() if kind in LINE_SPOT_KINDS and kind not in _OWN_MASK else None
        x = PRIMITIVES[kind](x, draw, scale)
        if isinstance(x, tuple):  # the primitive knows its own line mask
            x, own_mask = x
            mask |= own_mask
            before = None
        np.clip(x, 0, 255, out=x)
        if before is not None:
            change = cv2.absdiff(x, before)
            for c in range(3):
                mask |= change[:, :, c] >= MASK_LEVEL
        steps.append(draw.record)
    damaged = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    record = {"model": DAMAGE_MODEL_VERSION, "severity": severity, "seed": int(seed), "shape": [h, w],
              "order": [s["kind"] for s in steps], "steps": steps, "mask_fraction": round(float(mask.mean()), 6)}
    return damaged, mask, record
