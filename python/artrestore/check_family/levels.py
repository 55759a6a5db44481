"""Parameterisation of the check family: one latent damage level per image drives every effect.

A severity names an interval of the latent level ``t`` (0 = pristine, 1 = ruined). Each effect's
parameter has a span ``(value at t=0, value at t=1)``; an effect applied to an image uses
``t_effect = clip(t * jitter, 0, 1)`` with ``jitter`` drawn in ``JITTER`` per effect, so the
parameter falls in :func:`bounds` for that severity. How many effects an image gets is drawn in
``EFFECT_COUNT``. Images here are float32 RGB in [0, 1]; lengths are pixels at a 512 px short side.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SEVERITY_LEVEL", "JITTER", "EFFECT_COUNT", "SPANS", "VARIANTS", "EFFECTS", "MARK_EFFECTS",
           "COVERAGE_FOR_MASK", "Knob", "bounds"]

SEVERITY_LEVEL = {"light": (0.05, 0.3), "moderate": (0.3, 0.6), "severe": (0.6, 0.9)}
JITTER = (0.75, 1.25)
EFFECT_COUNT = {"light": (3, 6), "moderate": (4, 8), "severe": (6, 10)}

# Effect -> parameter -> (value at t = 0, value at t = 1).
SPANS = {
    "dye_fade": {"cyan_loss": (0.0, 0.75), "magenta_loss": (0.0, 0.5), "yellow_loss": (0.0, 0.35),
                 "fog": (0.0, 0.22)},
    "lab_flatten": {"lightness_keep": (1.0, 0.45), "chroma_keep": (1.0, 0.35)},
    "white_balance": {"shift": (0.0, 28.0), "kelvin_shift": (0.0, 3800.0)},
    "blotches": {"number": (0, 7), "darkening": (0.0, 0.55), "extent": (0.04, 0.32)},
    "texture": {"depth": (0.0, 0.12)},
    "cracks": {"number": (0, 26), "darkness": (0.0, 0.75), "mesh_cells": (0, 180)},
    "scratches": {"number": (0, 16), "intensity": (0.0, 0.8), "max_width": (1.0, 5.0)},
    "specks": {"number": (0, 320), "intensity": (0.1, 0.85), "max_radius": (0.8, 4.5)},
    "vignette": {"focal": (4.0, 1.3)},
    "blur": {"radius": (0.2, 4.0)},
    "downscale": {"shrink": (1.0, 0.22)},
    "noise": {"photons": (3000.0, 100.0), "read_noise": (0.0, 0.05), "banding": (0.0, 0.04)},
    "compression": {"quality": (98, 6)},
}
EFFECTS = tuple(SPANS)
# Effects whose drawn coverage forms the returned mask.
MARK_EFFECTS = ("cracks", "scratches", "specks")
COVERAGE_FOR_MASK = 0.4  # a pixel is in the mask where a mark covers at least this fraction of it

VARIANTS = {
    "dye_fade": ("chromogenic", "bleached"), "lab_flatten": ("global", "local"),
    "white_balance": ("lab_shift", "temperature"), "blotches": ("fbm", "mould"), "texture": ("canvas", "pulp"),
    "cracks": ("fractal_tree", "split_mesh"), "scratches": ("bezier", "film_rain"),
    "specks": ("dust_ellipses", "foxing_clusters", "hair_curves"), "vignette": ("cos4",),
    "blur": ("box_stack", "ring_bokeh", "shake_path"), "downscale": ("pyramid", "exact_linear"),
    "noise": ("poisson_gaussian", "banded"), "compression": ("jpeg444", "jpeg422", "jpeg420", "webp"),
}
_INTEGER = {("blotches", "number"), ("cracks", "number"), ("cracks", "mesh_cells"), ("scratches", "number"),
            ("specks", "number"), ("compression", "quality")}


def _at(effect: str, name: str, t: float):
    start, end = SPANS[effect][name]
    value = start + (end - start) * min(max(t, 0.0), 1.0)
    return int(round(value)) if (effect, name) in _INTEGER else round(float(value), 5)


def bounds(severity: str, effect: str, name: str) -> tuple[float, float]:
    """The smallest and largest value ``name`` of ``effect`` can take at ``severity``."""
    low, high = SEVERITY_LEVEL[severity]
    ends = (_at(effect, name, low * JITTER[0]), _at(effect, name, high * JITTER[1]))
    return min(ends), max(ends)


class Knob:
    """One effect's parameters at one image's level; ``record`` is what was used."""

    def __init__(self, rng: np.random.Generator, effect: str, level: float):
        self.rng = rng
        self.effect = effect
        self.t = float(min(max(level * rng.uniform(*JITTER), 0.0), 1.0))
        variants = VARIANTS[effect]
        self.variant = variants[int(rng.integers(len(variants)))]
        self.record: dict = {"effect": effect, "variant": self.variant, "t": round(self.t, 5)}

    def __getitem__(self, name: str):
        if name not in self.record:
            self.record[name] = _at(self.effect, name, self.t)
        return self.record[name]
