"""Parameter search, the forest router (safe storage, exact predictions) and the decision engine."""
import hashlib
import json
import pickle
import shutil
import time

import numpy as np
import pytest

import artrestore
from artrestore import classical
from artrestore.imageio import read_image, write_image
from artrestore.restorer import HybridRestorer
from artrestore.router import BUNDLED_ROUTER, DecisionEngine, Router, Thresholds, export_forest, save_router
from artrestore.training import datasets, router_fit


@pytest.fixture(scope="module")
def small_photo(astronaut):
    return astronaut[100:260, 150:330].copy()


@pytest.mark.parametrize("colour, sigma, strength", [(0, 1.5, 2.0), (1, 1.0, 1.0), (0, 0.5, 2.5), (1, 2.0, 0.5)])
def test_search_finds_known_parameters(small_photo, colour, sigma, strength):
    target = classical.color_correct_sharpen(small_photo, bool(colour), sigma, strength)
    params, best, scores = router_fit.search_pair(small_photo, target)
    assert len(scores) == 40
    assert (params.apply_color_correction, params.sharpen_sigma, params.sharpen_strength) == (bool(colour), sigma, strength)


def _fitted(seed=0):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 14)) * rng.uniform(0.1, 10, 14)
    y = np.c_[(x[:, 12] > 0).astype(float), 1 + 0.1 * x[:, 13], 1.5 + 0.05 * x[:, 5]]
    scaler = StandardScaler().fit(x)
    forest = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=seed).fit(scaler.transform(x), y)
    return x, scaler, forest


def test_exported_forest_equals_scikit_learn(tmp_path):
    x, scaler, forest = _fitted()
    save_router(tmp_path, export_forest(forest, scaler), {"note": "test"})
    router = Router.load(tmp_path)
    np.testing.assert_allclose(router.predict_raw(x), forest.predict(scaler.transform(x)), rtol=1e-12, atol=1e-12)
    single = router.predict_raw(x[0])
    assert single.shape == (3,)


def _stump(memory: str):
    """A one-split tree (x0 <= 0.5 -> 1.0 else 2.0) in writable arrays or in immutable bytes."""
    arrays = [np.array([0, -2, -2], np.int32), np.array([0.5, -2.0, -2.0]), np.array([1, -1, -1], np.int32),
              np.array([2, -1, -1], np.int32), np.array([[0.0], [1.0], [2.0]]), np.array([0], np.int32)]
    if memory == "bytes":
        arrays = [np.frombuffer(a.tobytes(), a.dtype).reshape(a.shape) for a in arrays]
    return arrays


@pytest.mark.parametrize("memory", ["writable", "bytes"])
def test_forest_predictions_do_not_follow_later_writes(memory):
    """Arrays in a model file's bytes are kept as they are; writable ones are copied, so a caller
    changing them after validation cannot send the walk out of bounds or change the answers."""
    from artrestore import _core

    arrays = _stump(memory)
    forest = _core.Forest(*arrays, 1)
    x = np.array([[0.0], [1.0]], np.float32)
    np.testing.assert_array_equal(forest.predict(x).ravel(), [1.0, 2.0])
    if memory == "writable":
        arrays[2][0], arrays[4][1, 0] = 10**6, 99.0
    else:
        with pytest.raises(ValueError):
            arrays[2][0] = 10**6
    np.testing.assert_array_equal(forest.predict(x).ravel(), [1.0, 2.0])


def _write(tmp_path):
    x, scaler, forest = _fitted()
    save_router(tmp_path, export_forest(forest, scaler), {})
    return tmp_path


def test_tampered_arrays_are_refused(tmp_path):
    folder = _write(tmp_path)
    blob = bytearray((folder / "router.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / "router.npz").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="SHA-256"):
        Router.load(folder)


def test_pickle_in_disguise_is_never_executed(tmp_path):
    folder = _write(tmp_path)

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    (folder / "router.npz").write_bytes(pickle.dumps({"feature": Boom()}))
    meta = json.loads((folder / "model_metadata.json").read_text())
    meta["arrays_sha256"] = hashlib.sha256((folder / "router.npz").read_bytes()).hexdigest()
    (folder / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError):
        Router.load(folder)
    assert not (tmp_path / "pwned").exists()


def test_foreign_metadata_and_bad_indices_are_refused(tmp_path):
    folder = _write(tmp_path)
    (folder / "model_metadata.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not an artrestore-router"):
        Router.load(folder)
    (folder / "model_metadata.json").write_text("\x00\x01 not json")
    with pytest.raises(ValueError, match="JSON"):
        Router.load(folder)
    x, scaler, forest = _fitted()
    arrays = export_forest(forest, scaler)
    arrays["left"][0] = 0  # a cycle: the root pointing at itself
    with pytest.raises(ValueError, match="child index"):
        Router(arrays, {})
    with pytest.raises(FileNotFoundError):
        Router.load(tmp_path / "missing")


def test_bundled_router_loads_and_predicts_in_range(astronaut):
    router = Router.load()
    params = router.predict(artrestore.analyze_vector(astronaut))
    assert 0.5 <= params.sharpen_sigma <= 2.0 and 0.5 <= params.sharpen_strength <= 2.5
    assert router.n_trees == router.metadata["hyperparameters"]["n_estimators"]
    assert router.metadata["cross_validation"]["folds"] == 5


def test_bundled_router_regenerates_bit_for_bit(tmp_path):
    table = BUNDLED_ROUTER / "regression_training_data.csv"
    meta = json.loads((BUNDLED_ROUTER / "model_metadata.json").read_text())
    router_fit.fit_router(table, tmp_path, seed=meta["hyperparameters"]["random_state"])
    assert (tmp_path / "router.npz").read_bytes() == (BUNDLED_ROUTER / "router.npz").read_bytes()


def test_decision_engine_uses_the_seeds_thresholds_by_default():
    engine = DecisionEngine()
    assert engine.thresholds == Thresholds(0.7, 0.1, 0.4)
    assert engine.decide({"sharpening_need": 0.8, "high_freq_energy": 0.5}) == ("severe", "deep_learning")
    assert engine.decide({"sharpening_need": 0.2, "high_freq_energy": 0.05}) == ("severe", "deep_learning")
    assert engine.decide({"sharpening_need": 0.5, "high_freq_energy": 0.5}) == ("moderate", "ml_guided")
    assert engine.decide({"sharpening_need": 0.4, "high_freq_energy": 0.5}) == ("light", "classical")
    custom = DecisionEngine(Thresholds(0.9, 0.0, 0.1))
    assert custom.decide({"sharpening_need": 0.8, "high_freq_energy": 0.0}) == ("moderate", "ml_guided")


def test_commands_go_on_past_unreadable_files(tmp_path, astronaut):
    src = tmp_path / "src"
    for i in range(6):
        artrestore.write_image(src / f"a{i}.png", np.roll(astronaut[::6, ::6], 9 * i, axis=0))
    datasets.build_dataset(src, tmp_path / "ds", per_image=2, size=64, progress=False)
    victim = next((tmp_path / "ds" / "train" / "damaged").glob("*.png"))
    victim.write_bytes(b"garbage")
    table, errors = router_fit.parameter_search(tmp_path / "ds", tmp_path / "search.csv", progress=False)
    assert len(errors) == 1 and victim.name in errors[0]
    assert table.exists()
    table, errors = router_fit.feature_table(tmp_path / "ds", tmp_path / "features.csv", progress=False)
    assert len(errors) == 1


def test_calibration_profiles_and_the_restorer_uses_the_right_one(tmp_path, astronaut):
    for i in range(14):  # 14 sources: 2 in validation
        write_image(tmp_path / "src" / f"img{i}.png", np.roll(astronaut[::4, ::4], 9 * i, axis=0))
    datasets.build_dataset(tmp_path / "src", tmp_path / "ds", per_image=3, size=96, seed=0, progress=False)
    folder = tmp_path / "router"
    shutil.copytree(BUNDLED_ROUTER, folder)

    truth = {read_image(r["damaged"]).tobytes(): read_image(r["undamaged"]) for r in datasets.load_pairs(tmp_path / "ds")}

    def slow_oracle_unet(image):  # a stand-in U-Net: near-perfect (about 38 dB) but 50 ms per image
        time.sleep(0.05)
        noise = np.random.default_rng(0).normal(0, 3, image.shape)
        return np.clip(truth[image.tobytes()] + noise, 0, 255).astype(np.uint8)

    # At 1000 dB per second its 50 ms cost about 50 dB: never worth it; a GPU 100x faster: 0.5 dB, always.
    result = router_fit.calibrate(tmp_path / "ds", folder, dl_restore=slow_oracle_unet, seconds_cost_db=1000.0,
                                  gpu_speedup=100.0, progress=False)
    cheap = result["accelerated"]
    assert result["seconds_cost_db"] == 1000.0 and cheap["seconds_cost_db"] == pytest.approx(10.0)
    assert result["method_distribution"]["deep_learning"] == 0
    assert cheap["method_distribution"]["deep_learning"] == 6
    assert cheap["mean_psnr"] == pytest.approx(result["mean_psnr_by_method"]["deep_learning"])
    assert cheap["mean_psnr"] > result["mean_psnr"] + 10
    assert sum(result["method_distribution"].values()) == result["validation_pairs"] == 6  # val: 2 sources x 3

    router = Router.load(folder)
    assert router.thresholds == Thresholds(**result["thresholds"])
    assert router.accelerated_thresholds == Thresholds(**cheap["thresholds"])
    assert HybridRestorer(ml_model_path=folder).engine.thresholds == router.thresholds
    served = HybridRestorer(ml_model_path=folder, dl_backend="grpc://127.0.0.1:9")  # connects lazily
    assert served.engine.thresholds == router.accelerated_thresholds
    with pytest.raises(ValueError, match="gpu_speedup"):
        router_fit.calibrate(tmp_path / "ds", folder, gpu_speedup=0.5, progress=False)
