"""``_resize.shrink_to`` against OpenCV's area resize called directly, and its size rules."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from artrestore._resize import shrink_to


def test_a_large_image_equals_opencv_area_resize_at_the_longer_side():
    image = np.random.default_rng(0).integers(0, 256, (600, 900, 3), dtype=np.uint8)
    np.testing.assert_array_equal(shrink_to(image, 300), cv2.resize(image, (300, 200), interpolation=cv2.INTER_AREA))


def test_a_small_image_comes_back_unchanged_and_contiguous():
    image = np.random.default_rng(1).random((40, 60, 3)).astype(np.float32)[:, ::-1]
    out = shrink_to(image, 60)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, image)


def test_a_thin_image_keeps_two_pixels_and_a_bad_side_is_named():
    out = shrink_to(np.zeros((4, 4000), np.uint8), 100)
    assert out.shape == (2, 100)
    with pytest.raises(ValueError, match="max_side"):
        shrink_to(np.zeros((4, 4), np.uint8), 1)
