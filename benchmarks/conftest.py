import pathlib
import sys

import cv2
import numpy as np
import pytest

# The NumPy reference lives with the tests; benchmarks time it as the analysis peer.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

# Single-threaded peers: the targets compare one core against one core.
cv2.setNumThreads(1)


@pytest.fixture(scope="session")
def photo_at():
    from skimage import data

    base = data.astronaut()
    cache = {}

    def make(size: int) -> np.ndarray:
        if size not in cache:
            cache[size] = np.ascontiguousarray(cv2.resize(base, (size, size), interpolation=cv2.INTER_CUBIC))
        return cache[size]

    return make
