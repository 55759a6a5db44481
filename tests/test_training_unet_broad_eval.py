"""Validation scores of a broad-damage U-Net run: PSNR over a pixel subset against NumPy."""
from __future__ import annotations

import numpy as np
import pytest

from artrestore.training import unet_broad_eval


def test_psnr_where_matches_numpy():
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = np.clip(clean.astype(int) + rng.integers(-9, 10, clean.shape), 0, 255).astype(np.uint8)
    where = rng.random((32, 32)) < 0.3
    error = np.mean((image[where].astype(float) - clean[where]) ** 2)
    assert unet_broad_eval.psnr_where(image, clean, where) == pytest.approx(10 * np.log10(255**2 / error))
