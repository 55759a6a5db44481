"""Growing a U-Net: a grown model computes what its source did, and its detector mask is exposed."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.dl


def _random_weights(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float32) for w in model.get_weights()])


def test_grown_model_matches_its_source_until_trained():
    from artrestore.dl.arch import build_unet
    from artrestore.dl.contract import UNetConfig
    from artrestore.training.unet_grow import build_mask_model, copy_by_name, training_model

    plain = build_unet(UNetConfig(base_filters=4, depth=2, global_context=True))
    _random_weights(plain, 0)
    config = UNetConfig(base_filters=4, depth=2, global_context=True, detector_filters=(4, 4, 4))
    train, image = training_model(config)
    fresh = copy_by_name(plain, image)
    assert fresh and all(name.startswith("det_") for name in fresh)
    rng = np.random.default_rng(1)
    x = {"image": rng.random((2, 32, 32, 3), dtype=np.float32), "context": rng.random((2, 128, 128, 3), dtype=np.float32)}
    np.testing.assert_allclose(np.asarray(image(x)), np.asarray(plain(x)), atol=1e-5)
    joined = np.asarray(train(x))
    restored, mask = (np.asarray(t) for t in build_mask_model(image)(x))
    np.testing.assert_array_equal(joined[..., :3], restored)
    np.testing.assert_array_equal(joined[..., 3:], mask)
    # The detector starts near "no damage": logits biased to -4.
    assert 0.0 < float(mask.mean()) < 0.1


def test_growing_refuses_a_shape_it_cannot_widen():
    from artrestore.dl.arch import build_unet
    from artrestore.dl.contract import UNetConfig
    from artrestore.training.unet_grow import copy_by_name

    with pytest.raises(ValueError, match="cannot grow"):
        copy_by_name(build_unet(UNetConfig(base_filters=8, depth=2)), build_unet(UNetConfig(base_filters=4, depth=2)))


def test_detector_config_survives_a_json_round_trip_and_sets_the_tile_multiple():
    import dataclasses
    import json

    from artrestore.dl.contract import UNetConfig

    config = UNetConfig(depth=2, detector_filters=(4, 8, 8, 8))
    again = UNetConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert again == config and hash(again) == hash(config)
    assert config.multiple == 8 and UNetConfig(depth=4, detector_filters=(4, 8)).multiple == 16
