"""The decision's clean guard at run time: its forest is evaluated like scikit-learn's, an image it
calls undamaged is left as it is whatever the gains predict, and a decision without one is unchanged."""
import json
import shutil

import numpy as np
import pytest

from artrestore.decision import BUNDLED_DECISION, GUARD_FOREST, NONE, LearnedDecision, export_forest_arrays, save_decision

sklearn = pytest.importorskip("sklearn")


def _with_guard(tmp_path, threshold=0.5, seed=0):
    """A copy of the bundled decision with a guard that calls a row undamaged when feature 3 > 0."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 27)).astype(np.float32)
    forest = RandomForestClassifier(n_estimators=20, min_samples_leaf=3, random_state=0).fit(x, (x[:, 3] > 0).astype(int))
    arrays = dict(np.load(BUNDLED_DECISION / "decision.npz"))
    arrays = {k: v for k, v in arrays.items() if not k.startswith(GUARD_FOREST + "_")}
    arrays.update(export_forest_arrays(forest, GUARD_FOREST, normalise_leaves=True))
    metadata = json.loads((BUNDLED_DECISION / "model_metadata.json").read_text())
    metadata["clean_guard"] = {"threshold": threshold}
    metadata.pop("arrays_sha256")
    return LearnedDecision.load(save_decision(tmp_path / "guarded", arrays, metadata)), forest


def _without_guard(tmp_path):
    arrays = dict(np.load(BUNDLED_DECISION / "decision.npz"))
    arrays = {k: v for k, v in arrays.items() if not k.startswith(GUARD_FOREST + "_")}
    metadata = json.loads((BUNDLED_DECISION / "model_metadata.json").read_text())
    metadata.pop("clean_guard", None)
    metadata.pop("arrays_sha256")
    return LearnedDecision.load(save_decision(tmp_path / "plain", arrays, metadata))


def test_the_guard_forest_is_evaluated_as_scikit_learn_does(tmp_path):
    guarded, forest = _with_guard(tmp_path)
    probe = np.random.default_rng(7).normal(size=(300, 27)).astype(np.float32)
    np.testing.assert_allclose(guarded.predict_clean_proba(probe), forest.predict_proba(probe)[:, 1], atol=1e-9)


def test_an_image_the_guard_calls_undamaged_is_left_and_the_rest_routed_as_without_it(tmp_path):
    guarded, forest = _with_guard(tmp_path)
    plain = _without_guard(tmp_path)
    assert plain.predict_clean_proba(np.zeros((1, 27))) is None
    # Damage-like vectors (the bundled decision sends many to a path) with feature 3 on either side.
    rng = np.random.default_rng(11)
    vectors = [rng.normal(size=27).astype(np.float32) for _ in range(200)]
    left, routed = 0, 0
    for v in vectors:
        with_guard, without = guarded.decide(v, 384 * 384), plain.decide(v, 384 * 384)
        p_clean = forest.predict_proba(v[None])[0, 1]
        assert with_guard.clean_probability == pytest.approx(p_clean)
        assert with_guard.as_dict()["clean_probability"] == pytest.approx(p_clean, abs=1e-3)
        assert "clean_probability" not in without.as_dict()
        if p_clean >= 0.5:
            assert with_guard.path == NONE
            left += without.path != NONE
        else:
            assert with_guard.path == without.path
            routed += 1
        assert with_guard.severity == without.severity and with_guard.gains_db == without.gains_db
    assert left > 0 and routed > 0  # both branches were exercised


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5])
def test_a_threshold_outside_zero_one_is_refused(tmp_path, threshold):
    with pytest.raises(ValueError, match="threshold"):
        _with_guard(tmp_path, threshold=threshold)


def test_a_guard_declared_without_its_arrays_is_refused(tmp_path):
    from artrestore._modelfile import save_arrays

    copy = tmp_path / "copy"
    shutil.copytree(BUNDLED_DECISION, copy)
    with np.load(copy / "decision.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith(GUARD_FOREST + "_")}
    metadata = json.loads((copy / "model_metadata.json").read_text())
    metadata["arrays_sha256"] = save_arrays(copy / "decision.npz", arrays)  # a consistent file, guard arrays gone
    (copy / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="not a decision array file.*clean_"):
        LearnedDecision.load(copy)
    metadata.pop("clean_guard")  # without the declaration the same file is a guard-free decision
    (copy / "model_metadata.json").write_text(json.dumps(metadata))
    assert LearnedDecision.load(copy).predict_clean_proba(np.zeros((1, 27))) is None


def test_the_bundled_guard_tells_the_bundled_clean_samples_from_their_damaged_versions():
    from artrestore.analysis import routing_vector
    from artrestore.decision import LEFT_UNDAMAGED
    from artrestore.imageio import read_image
    from artrestore.restorer import HybridRestorer

    bundled = LearnedDecision.load()
    assert 0 < bundled.clean_threshold <= 1 and bundled.metadata["clean_guard"]["classes"] == ["damaged", "undamaged"]
    samples = BUNDLED_DECISION.parents[1] / "samples"
    # An independent check of the class order: the visibly damaged samples score low, the clean cat high.
    for name in ("chelsea_severe.jpg", "starry_night_severe.jpg"):
        assert bundled.predict_clean_proba(routing_vector(read_image(samples / "damaged" / name)))[0] < 0.1
    restorer = HybridRestorer(use_dl=False)
    left_as_undamaged = 0
    for path in sorted((samples / "clean").glob("*.jpg")):
        image = read_image(path)
        out, info = restorer.restore(image, "auto")
        assert info["method"] == NONE, path.name
        np.testing.assert_array_equal(out, image)
        if info["decision"]["clean_probability"] >= bundled.clean_threshold:
            assert info["decision"]["reason"] == LEFT_UNDAMAGED
            left_as_undamaged += 1
    assert left_as_undamaged >= 2  # the cat (0.95) and the coffee cup (0.86) at full size


def test_the_reason_for_leaving_an_image_is_given(tmp_path):
    from artrestore.decision import LEFT_NO_GAIN, LEFT_NOT_WORTH_TIME, LEFT_UNAVAILABLE, LEFT_UNDAMAGED

    guarded, forest = _with_guard(tmp_path)
    margin, cost = guarded.margins["balanced"], guarded.costs["balanced"]
    rng = np.random.default_rng(3)
    seen = set()
    for k in range(300):
        v = rng.normal(size=27).astype(np.float32)
        # Some large images: their time is charged at the calibration size at most.
        pixels = 384 * 384 * (1 + 40 * (k % 3 == 0))
        available = None if k % 5 else ("classical",)  # some runs without the chain's learned path and the U-Net
        decision = guarded.decide(v, pixels, available=available)
        gains, seconds = guarded.predict_gains(v)[0], guarded.expected_seconds(min(pixels, guarded.cost_reference_pixels))
        cleared = [p for p, g in zip(guarded.paths, gains) if g > margin]
        worth = [p for p in cleared if dict(zip(guarded.paths, gains))[p] - cost * seconds[p] > 0]
        if forest.predict_proba(v[None])[0, 1] >= 0.5:
            expected = LEFT_UNDAMAGED
        elif decision.path != NONE:
            expected = ""
        else:
            expected = LEFT_NO_GAIN if not cleared else (LEFT_UNAVAILABLE if worth else LEFT_NOT_WORTH_TIME)
        assert decision.reason == expected and decision.as_dict().get("reason", "") == expected
        seen.add(expected)
    assert seen == {LEFT_UNDAMAGED, LEFT_NO_GAIN, LEFT_NOT_WORTH_TIME, LEFT_UNAVAILABLE, ""}  # every branch


def test_the_cli_says_an_undamaged_file_was_left_as_it_is(tmp_path):
    import subprocess
    import sys

    from artrestore.decision import LEFT_UNDAMAGED
    from artrestore.imageio import read_image

    # The bundled clean sample of the cat: the bundled guard gives it 0.95 at full size.
    src = BUNDLED_DECISION.parents[1] / "samples" / "clean" / "chelsea_severe.jpg"
    shutil.copy(src, tmp_path / "cat.jpg")
    single = subprocess.run([sys.executable, "-m", "artrestore.cli", "restore", "-i", str(tmp_path / "cat.jpg"), "-o",
                             str(tmp_path / "out"), "--no-dl"], capture_output=True, text=True, timeout=120)
    assert single.returncode == 0, single.stderr
    assert f"left as it is: {LEFT_UNDAMAGED}" in single.stdout
    restored = next((tmp_path / "out").glob("cat_restored.*"))
    np.testing.assert_array_equal(read_image(restored), read_image(tmp_path / "cat.jpg"))
    folder = subprocess.run([sys.executable, "-m", "artrestore.cli", "restore", "-i", str(tmp_path), "-o",
                             str(tmp_path / "batch"), "--no-dl"], capture_output=True, text=True, timeout=120)
    assert folder.returncode == 0, folder.stderr
    assert "1 of them left as they were: they look undamaged" in folder.stdout
    assert LEFT_UNDAMAGED in (tmp_path / "batch" / "summary.csv").read_text()
