import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("ARTRESTORE_DATA", REPO.parent / "shared" / "data"))
CLEAN_DIR = SHARED_DATA / "clean"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return skimage_data.astronaut()


@pytest.fixture(scope="session")
def clean_dir() -> pathlib.Path:
    if not CLEAN_DIR.is_dir():
        pytest.skip(f"shared clean images not found at {CLEAN_DIR} (set ARTRESTORE_DATA)")
    return CLEAN_DIR


@pytest.fixture(scope="session")
def clean_images(clean_dir):
    import cv2

    images = []
    for path in sorted(clean_dir.glob("*/*")):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            images.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    return images
