"""Random fields for the check family: value noise and fractal (fBm) noise, float32 H x W, mean 0, std 1.

Value noise: a grid of uniform random values one ``cell`` (pixels) apart, bilinearly enlarged
and box-filtered; fBm sums octaves of it with halving cells and weights 0.55**k.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["value_noise", "fbm"]


def _standardise(field: np.ndarray) -> np.ndarray:
    field = field - np.float32(field.mean())
    return field / np.float32(max(float(field.std()), 1e-6))


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    h, w = shape
    cell = max(2.0, float(cell))
    grid = rng.uniform(-1, 1, (int(h / cell) + 2, int(w / cell) + 2)).astype(np.float32)
    big = cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR)
    k = max(1, int(cell / 2)) | 1
    return _standardise(cv2.blur(big, (k, k), borderType=cv2.BORDER_REFLECT))


def fbm(rng: np.random.Generator, shape: tuple[int, int], cell: float, octaves: int = 4) -> np.ndarray:
    total = np.zeros(shape, np.float32)
    for k in range(octaves):
        if cell / 2**k < 2:
            break
        total += np.float32(0.55**k) * value_noise(rng, shape, cell / 2**k)
    return _standardise(total)
