"""Monochrome images stay monochrome.

A grayscale photograph read as RGB (``imageio.read_image`` replicates its one channel) has three
equal channels and no colour information, so colour a restoration path adds to it is invented: the
U-Net tints a damaged grayscale scan by up to about 20 levels between channels. The restorer
therefore gives a monochrome input a monochrome output.

``is_monochrome(image)``: True when the three channels of an H x W x 3 uint8 image are equal.
``to_monochrome(image)``: H x W x 3 uint8, the image's luma (ITU-R BT.601 weights, OpenCV's
``COLOR_RGB2GRAY``, rounded) in all three channels.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["is_monochrome", "to_monochrome"]


def is_monochrome(image: np.ndarray) -> bool:
    """True when every pixel of an H x W x 3 image has R == G == B."""
    sample = image[::16, ::16]  # a colour image almost always fails here, before the whole-image test
    if not (np.array_equal(sample[..., 0], sample[..., 1]) and np.array_equal(sample[..., 1], sample[..., 2])):
        return False
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


def to_monochrome(image: np.ndarray) -> np.ndarray:
    """The luma of an H x W x 3 uint8 RGB image, replicated into three channels."""
    luma = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return cv2.merge([luma, luma, luma])
