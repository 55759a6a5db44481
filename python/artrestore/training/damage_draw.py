"""Recorded random draws for the broad damage model, and the smooth random fields its primitives share.

:class:`Draw` wraps a NumPy generator and one kind's row of ``RANGES``: every named number a
primitive uses is drawn through it, rounded to 4 decimals (the rounded value is the one applied, so
a record reproduces the damage) and written into the step's record. ``smooth_field`` gives a
zero-mean, unit-variance random field with features of a given size in pixels, built at low
resolution and upsampled (cheap at any size).
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from artrestore.training.damage_ranges import CHOICES, SEVERITIES

__all__ = ["Draw", "generator_for", "smooth_field"]

_SALT = 0xB40AD  # keeps this model's streams apart from other generators seeded with the same numbers


def generator_for(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    """A generator determined by the pixels, the severity and the seed (same inputs, same damage)."""
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=8,
                             person=str(image.shape).encode()[:16]).digest()
    return np.random.default_rng([_SALT, int(seed) & 0xFFFFFFFF, SEVERITIES.index(severity),
                                  int.from_bytes(digest, "little")])


class Draw:
    """Draws for one step of one kind; ``record`` is the step's JSON-serialisable record."""

    def __init__(self, rng: np.random.Generator, ranges: dict, kind: str, family: str):
        self.rng = rng
        self.ranges = ranges
        self.record: dict = {"kind": kind, "family": family}

    def _store(self, name, value, into):
        (self.record if into is None else into)[name] = value
        return value

    def uniform(self, name: str, into: dict | None = None) -> float:
        low, high = self.ranges[name]
        return self._store(name, round(float(self.rng.uniform(low, high)), 4), into)

    def integer(self, name: str, into: dict | None = None) -> int:
        low, high = self.ranges[name]
        return self._store(name, int(self.rng.integers(low, high + 1)), into)

    def sign(self, name: str, p_positive: float = 0.5, into: dict | None = None) -> int:
        """+1 or -1 (``ranges[name]`` is (-1, 1))."""
        return self._store(name, 1 if self.rng.random() < p_positive else -1, into)

    def choice(self, name: str, into: dict | None = None) -> str:
        return self._store(name, str(CHOICES[name][int(self.rng.integers(len(CHOICES[name])))]), into)

    def detail(self) -> dict:
        """A new per-element record (one scratch, one stain) appended to the step's ``detail`` list."""
        element: dict = {}
        self.record.setdefault("detail", []).append(element)
        return element

    def spread(self, name: str, n: int) -> np.ndarray:
        """``n`` unrecorded values uniformly in ``ranges[name]`` (per-speck sizes and the like)."""
        low, high = self.ranges[name]
        return self.rng.uniform(low, high, n)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], feature_px: float) -> np.ndarray:
    """Float32 H x W random field, mean 0 and standard deviation ~1, with blobs ~``feature_px`` wide."""
    h, w = shape
    step = max(1.0, feature_px / 2.0)
    gh, gw = max(2, int(np.ceil(h / step)) + 1), max(2, int(np.ceil(w / step)) + 1)
    coarse = rng.standard_normal((gh, gw), dtype=np.float32)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 0.8)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    std = float(field.std())
    return (field - float(field.mean())) / (std if std > 1e-6 else 1.0)
