"""The chain's router: loading is safe (hash, shapes, identity setting), prediction is the core
forest's and falls back to doing nothing; the bundled model works end to end."""
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from artrestore.chain import ChainParams
from artrestore.chain.router import BUNDLED_CHAIN_ROUTER, INPUT_NAMES, PARAM_NAMES, ChainRouter, save_chain_router

IDENTITY = ChainParams(line_sensitivity=0, denoise_strength=0, colour_strength=0, sharpen_strength=0)
STRONG = ChainParams(line_sensitivity=1, denoise_strength=1, colour_strength=1, sharpen_strength=0.3)


COLOUR_ANCHORS = [60.0, 64.0, 70.0, 200.0, 192.0, 180.0]  # r, g, b at levels 64, then at 192


def stump_arrays(gains_left, gains_right, split_feature=0, threshold=0.0, configs=(IDENTITY, STRONG)):
    """One tree: feature ``split_feature`` (standardised) <= threshold -> gains_left else gains_right;
    a one-leaf colour forest mapping levels 64 / 192 to COLOUR_ANCHORS."""
    n = len(INPUT_NAMES)
    return {
        "colour_feature": np.array([0], np.int32), "colour_threshold": np.array([0.0]),
        "colour_left": np.array([-1], np.int32), "colour_right": np.array([-1], np.int32),
        "colour_value": np.array([COLOUR_ANCHORS]), "colour_tree_roots": np.array([0], np.int32),
        "strength_feature": np.array([0], np.int32), "strength_threshold": np.array([0.0]),
        "strength_left": np.array([-1], np.int32), "strength_right": np.array([-1], np.int32),
        "strength_value": np.array([[0.0, 0.5, 0.3]]), "strength_tree_roots": np.array([0], np.int32),
        "colour_strengths": np.array([0.0, 0.8, 1.0]),
        "feature": np.array([split_feature, 0, 0], np.int32), "threshold": np.array([threshold, 0, 0], np.float64),
        "left": np.array([1, -1, -1], np.int32), "right": np.array([2, -1, -1], np.int32),
        "value": np.array([[0, 0], gains_left, gains_right], np.float64), "tree_roots": np.array([0], np.int32),
        "scaler_mean": np.zeros(n), "scaler_scale": np.ones(n),
        "configs": np.array([[getattr(c, p) for p in PARAM_NAMES] for c in configs], np.float64),
    }


def test_predicts_the_best_setting_and_falls_back_to_identity(tmp_path):
    # Left of the split STRONG (blind colour) is predicted +2 dB: beats identity + learned colour (0.5).
    folder = save_chain_router(tmp_path / "r", stump_arrays([0.0, 2.0], [0.0, -1.0]), {"min_gain_db": 0.1})
    router = ChainRouter.load(folder)
    x = np.zeros(len(INPUT_NAMES))
    x[0] = -1.0
    assert router.predict(x) == (STRONG, 2.0, None)
    np.testing.assert_allclose(router.predict_gains(np.stack([x, -x])), [[0, 2], [0, -1]])
    # Right of it only the learned colour map gains (0.5 dB at strength 0.8), on the identity setting.
    x[0] = 1.0
    params, gain, (gains, offsets) = router.predict(x)
    assert params == replace(IDENTITY, colour_strength=0.8) and gain == 0.5
    # The colour map passes through the anchors: 64 -> 60 / 64 / 70 and 192 -> 200 / 192 / 180.
    np.testing.assert_allclose(gains * 64 + offsets, COLOUR_ANCHORS[:3])
    np.testing.assert_allclose(gains * 192 + offsets, COLOUR_ANCHORS[3:])


def test_margin_keeps_small_gains_from_acting(tmp_path):
    arrays = stump_arrays([0.0, 0.05], [0.0, 0.05])
    arrays["strength_value"] = np.array([[0.0, 0.05, 0.02]])
    folder = save_chain_router(tmp_path / "r", arrays, {"min_gain_db": 0.1})
    assert ChainRouter.load(folder).predict(np.zeros(len(INPUT_NAMES))) == (IDENTITY, 0.0, None)


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
    # The identity: every stage off (its unused cast tolerance is whatever the grid stored).
    assert any(c.line_sensitivity == c.denoise_strength == c.colour_strength == c.sharpen_strength == 0
               for c in router.configs)
    inputs = np.concatenate([analyze_vector(astronaut), chain_features(astronaut)])
    params, gain, colour_map = router.predict(inputs)
    assert params in router.configs or replace(params, colour_strength=0.0) in router.configs
    assert np.isfinite(gain)
    gains, offsets = router.predict_colour_map(inputs)
    assert np.all(gains > 0) and np.all(np.isfinite(offsets))
    assert BUNDLED_CHAIN_ROUTER.is_dir()


def test_a_router_fitted_before_the_fading_tolerances_loads_with_the_chain_it_was_fitted_on(tmp_path):
    # The bundled router predates ChainParams.black_tolerance / white_tolerance: its configs have the
    # first seven parameters, and the missing ones take the field defaults (16 / 60 levels, as then).
    older = list(PARAM_NAMES[:PARAM_NAMES.index("black_tolerance")])
    arrays = stump_arrays([0, 1], [0, 1])
    arrays["configs"] = arrays["configs"][:, :len(older)]
    folder = save_chain_router(tmp_path / "older", arrays, {})
    meta = json.loads((folder / "model_metadata.json").read_text())
    meta["param_names"] = older  # what a router saved before the two fields existed records
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    router = ChainRouter.load(folder)
    assert router.configs == [IDENTITY, STRONG]
    assert {(c.black_tolerance, c.white_tolerance) for c in router.configs} == {(16.0, 60.0)}
    meta["param_names"] = older[::-1]  # not a prefix of today's parameters: refused
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other features or parameters"):
        ChainRouter.load(folder)
