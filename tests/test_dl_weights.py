"""U-Net model folders (``dl.weights``): the recorded SHA-256 is the file's own, nothing but the two
files is left behind, and a training record completed later replaces the old one without touching
what describes the weights."""
import hashlib
import json

import numpy as np
import pytest

from artrestore.dl.contract import UNetConfig


@pytest.mark.dl
def test_a_record_completed_later_keeps_the_weights_description(tmp_path):
    from artrestore.dl.arch import build_unet
    from artrestore.dl.weights import load_model, save_weights, update_metadata

    config = UNetConfig(base_filters=8, depth=2, global_context=False)
    model = build_unet(config)
    save_weights(model, config, tmp_path, {"training": {"validation": None}, "format": "forged"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_metadata.json", "unet.npz"]
    first = json.loads((tmp_path / "model_metadata.json").read_text())
    assert first["weights_sha256"] == hashlib.sha256((tmp_path / "unet.npz").read_bytes()).hexdigest()
    weights_bytes = (tmp_path / "unet.npz").read_bytes()

    update_metadata(tmp_path, {"training": {"validation": {"light": 1.0}}, "weights_sha256": "0" * 64,
                               "architecture": {"base_filters": 99}})
    assert (tmp_path / "unet.npz").read_bytes() == weights_bytes
    second = json.loads((tmp_path / "model_metadata.json").read_text())
    assert second["training"] == {"validation": {"light": 1.0}}
    for key in ("format", "architecture", "parameters", "weights_sha256"):
        assert second[key] == first[key]
    loaded, loaded_config, meta = load_model(tmp_path)
    assert loaded_config == config and meta["training"]["validation"] == {"light": 1.0}
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b.astype(np.float16).astype(np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_metadata.json", "unet.npz"]
