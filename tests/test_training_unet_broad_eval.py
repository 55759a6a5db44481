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


@pytest.mark.dl
def test_detector_mask_covers_the_whole_image_and_follows_the_threshold():
    from artrestore.dl.contract import UNetConfig
    from artrestore.training.unet_grow import build_mask_model, training_model

    config = UNetConfig(base_filters=4, depth=2, global_context=True, detector_filters=(4, 4, 4))
    _, model = training_model(config)
    mask_model = build_mask_model(model)
    head = model.get_layer("det_head")
    kernel, bias = head.get_weights()
    image = np.random.default_rng(8).integers(0, 256, (300, 270, 3), dtype=np.uint8)
    # The head's bias alone decides: sigmoid(+20) everywhere, then sigmoid(-20).
    head.set_weights([np.zeros_like(kernel), np.full_like(bias, 20.0)])
    marked = unet_broad_eval.detector_mask(mask_model, config, image)
    assert marked.shape == (300, 270) and marked.all()
    head.set_weights([np.zeros_like(kernel), np.full_like(bias, -20.0)])
    assert not unet_broad_eval.detector_mask(mask_model, config, image).any()
