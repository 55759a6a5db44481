"""Damage analysis: RGB image in, the 14 FFT damage features out.

Input: an H x W x 3 ``uint8`` (0-255) or ``float32`` (0-1) array; grayscale (H x W or H x W x 1)
and RGBA are converted, other shapes and dtypes raise. Output: ``analyze`` gives a dict of
feature name -> float, ``analyze_vector`` the same numbers as a float32 vector in
``FEATURE_NAMES`` order (the order models are trained on). Definitions: docs/features.md.
"""
from __future__ import annotations

import os
import time

import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb

FEATURE_NAMES: tuple[str, ...] = tuple(_core.FEATURE_NAMES)
WORKING_SIZE: int = _core.WORKING_SIZE

# Test hook, unset in normal use: the latency gate's own test (tests/test_benchmark_gate.py) sets
# ARTRESTORE_TEST_SLOWDOWN_MS to make every analysis that many milliseconds of CPU slower (a busy
# wait holding the GIL, as slower code would) and checks that the gate fails. Read once at
# import, so normal calls pay one falsy check.
_TEST_SLOWDOWN_S = float(os.environ.get("ARTRESTORE_TEST_SLOWDOWN_MS") or 0) / 1e3


def analyze_vector(image) -> np.ndarray:
    """The 14 features as a float32 vector in ``FEATURE_NAMES`` order."""
    if _TEST_SLOWDOWN_S:
        end = time.thread_time() + _TEST_SLOWDOWN_S  # CPU time of this thread, whatever the load
        while time.thread_time() < end:
            pass
    return _core.analyze(as_rgb(image))


def analyze(image) -> dict[str, float]:
    """The 14 damage features by name (see docs/features.md for formulas, units and ranges)."""
    return dict(zip(FEATURE_NAMES, analyze_vector(image).tolist()))
