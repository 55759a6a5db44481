"""Geometric self-ensemble of a U-Net backend: the image restored in several dihedral views, each
turned back, averaged.

The network is not equivariant to rotations and mirrors, so its errors differ between views of
one image while the restoration agrees; averaging ``views`` of them (1: the plain pass, 2: plus the
left-right mirror, 8: four rotations x optional mirror) keeps the agreement and halves part of the
error, at ``views`` x the network's time. On a GPU-served U-Net that time is small, which is where
it is used (``DEFAULT_VIEWS``); on the in-process CPU path it is an option.

Inputs: a backend whose ``restore`` maps RGB uint8 H x W x 3 to RGB uint8 of the same shape
(``dl.backends``), and such an image. Output: RGB uint8 H x W x 3, the rounded mean of the views
(levels 0-255). Views run concurrently, so a served model's batching sees them together; the
wrapper is as thread-safe as the backend it wraps. A backend that can average the views itself
(``with_views(views)`` returning such a backend, as a served model exported with its eight-view
signature does: ``serving.export``) is asked first: then each tile and its thumbnail are turned in
the server's graph and the client sends one copy of the image instead of ``views``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

__all__ = ["VIEWS", "DEFAULT_VIEWS", "TRANSFORMS", "forward", "inverse", "check_views", "SelfEnsemble"]

VIEWS = (1, 2, 8)  # powers of two: the mean divides by a shift
# Per deployment profile (``decision.PROFILES``): the served U-Net averages eight views (chosen on the
# training family's validation split: docs/unet_architecture.md), the in-process CPU one runs once.
DEFAULT_VIEWS = {"local": 1, "accelerated": 8}
# (quarter turns counter-clockwise, mirror left-right afterwards); the first two are the x2 views.
TRANSFORMS = ((0, False), (0, True), (1, False), (1, True), (2, False), (2, True), (3, False), (3, True))
# OpenCV's rotate and flip, not NumPy's strided copies: 2.5x faster on a 1024² RGB image here, and
# they release the GIL, so the views' copies run in parallel (benchmarks/gpu_unet.py,
# ``x8_host_work_1024_ms``).
_ROTATE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}
_MIRROR_LEFT_RIGHT = 1
_NOT_ASKED = object()


def forward(image: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    """``image`` (H x W x C) turned ``turns`` x 90 degrees counter-clockwise, then mirrored left-right
    (a new contiguous array)."""
    turned = cv2.rotate(image, _ROTATE[turns % 4]) if turns % 4 else image
    if mirror:
        return cv2.flip(turned, _MIRROR_LEFT_RIGHT)
    return turned if turned is not image else image.copy()


def inverse(image: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    """Undo ``forward(., turns, mirror)`` (a new contiguous array)."""
    unmirrored = cv2.flip(image, _MIRROR_LEFT_RIGHT) if mirror else image
    if -turns % 4:
        return cv2.rotate(unmirrored, _ROTATE[-turns % 4])
    return unmirrored if mirror else image.copy()


def check_views(views) -> int:
    """``views`` as an int if it is one of ``VIEWS``, else ValueError naming the allowed counts."""
    if isinstance(views, bool) or not isinstance(views, (int, np.integer)) or int(views) not in VIEWS:
        raise ValueError(f"U-Net views must be one of {VIEWS}, got {views!r}")
    return int(views)


class SelfEnsemble:
    """A backend whose ``restore`` is the mean of ``views`` dihedral views of ``backend.restore``."""

    def __init__(self, backend, views: int):
        self.backend, self.views = backend, check_views(views)
        self._averaging = _NOT_ASKED  # the backend's own views-averaging variant, or None

    def _averaging_backend(self):
        """``backend.with_views(views)`` (asked once it has answered; None: turn the views here)."""
        if self._averaging is _NOT_ASKED:
            offer = getattr(self.backend, "with_views", None)
            self._averaging = offer(self.views) if offer is not None else None
        return self._averaging

    @property
    def turned_by(self) -> str | None:
        """Who turns the views: ``"backend"`` (its own averaging variant, e.g. the served graph),
        ``"ensemble"`` (here), or None while the backend has not been asked (before the first
        restore of more than one view)."""
        if self.views == 1 or self._averaging is _NOT_ASKED:
            return None
        return "ensemble" if self._averaging is None else "backend"

    def restore(self, image: np.ndarray) -> np.ndarray:
        transforms = TRANSFORMS[:self.views]

        if self.views == 1:
            return self.backend.restore(image)
        averaging = self._averaging_backend()
        if averaging is not None:
            return averaging.restore(image)
        image = np.ascontiguousarray(image)  # OpenCV takes row-strided arrays only

        def one(transform):
            return inverse(np.ascontiguousarray(self.backend.restore(forward(image, *transform))), *transform)
        with ThreadPoolExecutor(max_workers=self.views) as pool:
            outputs = list(pool.map(one, transforms))
        # The rounded mean in integers: a uint16 sum of <= 8 views cannot overflow, and the view
        # counts are powers of two, so the division is a shift (half the time of ``//``).
        total = np.zeros(image.shape, np.uint16)
        for output in outputs:
            np.add(total, output, out=total)
        total += self.views // 2
        total >>= self.views.bit_length() - 1
        return total.astype(np.uint8)

    def __getattr__(self, name):  # runtime, precision, ... of the wrapped backend
        if name in ("backend", "_averaging"):  # not yet set (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.backend, name)
