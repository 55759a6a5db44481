"""The chain's router: loading is safe (hash, shapes, identity setting), prediction is the core
forest's and falls back to doing nothing; the bundled model works end to end."""
import json
import shutil

import numpy as np
import pytest

from artrestore.chain import ChainParams
from artrestore.chain.router import BUNDLED_CHAIN_ROUTER, INPUT_NAMES, PARAM_NAMES, ChainRouter, save_chain_router

IDENTITY = ChainParams(line_sensitivity=0, denoise_strength=0, colour_strength=0, sharpen_strength=0)
STRONG = ChainParams(line_sensitivity=1, denoise_strength=1, colour_strength=1, sharpen_strength=0.3)


def stump_arrays(gains_left, gains_right, split_feature=0, threshold=0.0, configs=(IDENTITY, STRONG)):
    """One tree: feature ``split_feature`` (standardised) <= threshold -> gains_left else gains_right."""
    n = len(INPUT_NAMES)
    return {
        "feature": np.array([split_feature, 0, 0], np.int32), "threshold": np.array([threshold, 0, 0], np.float64),
        "left": np.array([1, -1, -1], np.int32), "right": np.array([2, -1, -1], np.int32),
        "value": np.array([[0, 0], gains_left, gains_right], np.float64), "tree_roots": np.array([0], np.int32),
        "scaler_mean": np.zeros(n), "scaler_scale": np.ones(n),
        "configs": np.array([[getattr(c, p) for p in PARAM_NAMES] for c in configs], np.float64),
    }


def test_predicts_the_best_setting_and_falls_back_to_identity(tmp_path):
    folder = save_chain_router(tmp_path / "r", stump_arrays([0.0, 2.0], [0.0, -1.0]), {"min_gain_db": 0.1})
    router = ChainRouter.load(folder)
    x = np.zeros(len(INPUT_NAMES))
    x[0] = -1.0
    assert router.predict(x) == (STRONG, 2.0)
    x[0] = 1.0
    params, gain = router.predict(x)
    assert params == IDENTITY and gain == 0.0
    np.testing.assert_allclose(router.predict_gains(np.stack([x, -x])), [[0, -1], [0, 2]])


def test_margin_keeps_small_gains_from_acting(tmp_path):
    folder = save_chain_router(tmp_path / "r", stump_arrays([0.0, 0.05], [0.0, 0.05]), {"min_gain_db": 0.1})
    assert ChainRouter.load(folder).predict(np.zeros(len(INPUT_NAMES)))[0] == IDENTITY


def test_refuses_tampered_foreign_and_identity_free_models(tmp_path):
    folder = save_chain_router(tmp_path / "ok", stump_arrays([0, 1], [0, 1]), {})
    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    with open(tampered / "chain_router.npz", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ValueError, match="SHA-256"):
        ChainRouter.load(tampered)
    foreign = tmp_path / "foreign"
    shutil.copytree(folder, foreign)
    meta = json.loads((foreign / "model_metadata.json").read_text())
    meta["input_names"] = meta["input_names"][:-1]
    (foreign / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other features"):
        ChainRouter.load(foreign)
    no_identity = save_chain_router(tmp_path / "noid", stump_arrays([0, 1], [0, 1], configs=(STRONG, STRONG)), {})
    with pytest.raises(ValueError, match="identity"):
        ChainRouter.load(no_identity)
    with pytest.raises(FileNotFoundError):
        ChainRouter.load(tmp_path / "missing")


def test_bundled_router_loads_and_predicts_a_valid_setting(astronaut):
    from artrestore.analysis import analyze_vector
    from artrestore.chain.features import chain_features

    router = ChainRouter.load()
    assert router.metadata["format"] == "artrestore-chain-router/1"
    assert any(c == IDENTITY for c in router.configs)
    params, gain = router.predict(np.concatenate([analyze_vector(astronaut), chain_features(astronaut)]))
    assert params in router.configs and np.isfinite(gain)
    assert BUNDLED_CHAIN_ROUTER.is_dir()
