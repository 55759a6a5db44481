import os
import pathlib
import sys

# One BLAS thread, set before NumPy loads: every peer is single-threaded, like the core's calls.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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


def pytest_collection_finish(session):
    """Start the gRPC stand-in now when a selected benchmark needs it, so its TensorFlow start-up
    (half a minute on two busy cores) overlaps the other benchmarks instead of adding to them."""
    if any("grpc_target" in getattr(item, "fixturenames", ()) for item in session.items):
        from test_latency_unet import HAVE_TF, start_server

        if HAVE_TF:
            session.config.artrestore_server = start_server()
