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

import os
import time

import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb

FEATURE_NAMES: tuple[str, ...] = tuple(_core.FEATURE_NAMES)
EXTRA_FEATURE_NAMES: tuple[str, ...] = tuple(_core.EXTRA_FEATURE_NAMES)
ROUTING_FEATURE_NAMES: tuple[str, ...] = FEATURE_NAMES + EXTRA_FEATURE_NAMES
WORKING_SIZE: int = _core.WORKING_SIZE

# Test hook, unset in normal use: the latency gate's own test (tests/test_benchmark_gate.py) sets
# ARTRESTORE_TEST_SLOWDOWN_MS to make every analysis that many milliseconds of CPU slower (a busy
# wait holding the GIL, as slower code would) and checks that the gate fails. Read once at
# import, so normal calls pay one falsy check.
_TEST_SLOWDOWN_S = float(os.environ.get("ARTRESTORE_TEST_SLOWDOWN_MS") or 0) / 1e3

__all__ = ["FEATURE_NAMES", "EXTRA_FEATURE_NAMES", "ROUTING_FEATURE_NAMES", "WORKING_SIZE", "analyze",
           "analyze_vector", "analyze_extra", "routing_vector"]


def _test_slowdown() -> None:
    if _TEST_SLOWDOWN_S:
        end = time.thread_time() + _TEST_SLOWDOWN_S  # CPU time of this thread, whatever the load
        while time.thread_time() < end:
            pass


def analyze_vector(image) -> np.ndarray:
    """The 14 features as a float32 vector in ``FEATURE_NAMES`` order."""
    _test_slowdown()
    return _core.analyze(as_rgb(image))


def analyze(image) -> dict[str, float]:
    """The 14 damage features by name (see docs/features.md for formulas, units and ranges)."""
    return dict(zip(FEATURE_NAMES, analyze_vector(image).tolist()))


def routing_vector(image) -> np.ndarray:
    """The 14 features then the 13 damage measures, float32, in ``ROUTING_FEATURE_NAMES`` order."""
    _test_slowdown()  # the restorer's auto path analyses here: the latency gate's hook must reach it
    return _core.analyze_routing(as_rgb(image))


def analyze_extra(image) -> dict[str, float]:
    """The 13 damage measures by name (docs/features.md, "Damage measures")."""
    return dict(zip(EXTRA_FEATURE_NAMES, routing_vector(image)[len(FEATURE_NAMES):].tolist()))
