"""Damage analysis: RGB image in, the 14 FFT damage features (and 13 damage measures) out.

Input: an H x W x 3 ``uint8`` (0-255) or ``float32`` (0-1) array; grayscale (H x W or H x W x 1)
and RGBA are converted, other shapes and dtypes raise. Output: ``analyze`` gives a dict of
feature name -> float, ``analyze_vector`` the same numbers as a float32 vector in
``FEATURE_NAMES`` order (the order the router is trained on). ``analyze_extra`` gives the 13
damage measures (noise, blur, JPEG blocking, thin lines, colour cast, fading) by name, and
``routing_vector`` the 14 + 13 numbers in ``ROUTING_FEATURE_NAMES`` order from one pass (what
the decision model is trained on). Definitions and units: docs/features.md.
"""
from __future__ import annotations

import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb

FEATURE_NAMES: tuple[str, ...] = tuple(_core.FEATURE_NAMES)
EXTRA_FEATURE_NAMES: tuple[str, ...] = tuple(_core.EXTRA_FEATURE_NAMES)
ROUTING_FEATURE_NAMES: tuple[str, ...] = FEATURE_NAMES + EXTRA_FEATURE_NAMES
WORKING_SIZE: int = _core.WORKING_SIZE

__all__ = ["FEATURE_NAMES", "EXTRA_FEATURE_NAMES", "ROUTING_FEATURE_NAMES", "WORKING_SIZE", "analyze",
           "analyze_vector", "analyze_extra", "routing_vector"]


def analyze_vector(image) -> np.ndarray:
    """The 14 features as a float32 vector in ``FEATURE_NAMES`` order."""
    return _core.analyze(as_rgb(image))


def analyze(image) -> dict[str, float]:
    """The 14 damage features by name (see docs/features.md for formulas, units and ranges)."""
    return dict(zip(FEATURE_NAMES, analyze_vector(image).tolist()))


def routing_vector(image) -> np.ndarray:
    """The 14 features then the 13 damage measures, float32, in ``ROUTING_FEATURE_NAMES`` order."""
    return _core.analyze_routing(as_rgb(image))


def analyze_extra(image) -> dict[str, float]:
    """The 13 damage measures by name (docs/features.md, "Damage measures")."""
    return dict(zip(EXTRA_FEATURE_NAMES, routing_vector(image)[len(FEATURE_NAMES):].tolist()))
