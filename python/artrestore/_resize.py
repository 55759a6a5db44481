"""Shrinking an image to a longer side, the one definition for every module that measures at a
fixed size (the U-Net check's change features, the hold's thumbnails, the chain's features, the
routing outcomes).

``shrink_to(image, max_side)``: H x W x C (or H x W) array of any dtype OpenCV resizes ->
the same image with its longer side ``max_side`` px (OpenCV area averaging, each side at least
2 px), C-contiguous; an image already that small is returned as it is (made contiguous).
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["shrink_to"]

MIN_SIDE = 2  # px: what as_rgb accepts, so a shrunk image is still a valid input


def shrink_to(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` with its longer side at most ``max_side`` pixels (area averaging)."""
    if max_side < MIN_SIDE:
        raise ValueError(f"max_side must be at least {MIN_SIDE} px, got {max_side}")
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(image)
    size = (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)
