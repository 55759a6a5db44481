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
    copy = tmp_path / "copy"
    shutil.copytree(BUNDLED_DECISION, copy)
    arrays = {k: v for k, v in np.load(copy / "decision.npz").items() if not k.startswith(GUARD_FOREST + "_")}
    np.savez(copy / "decision.npz", **arrays)
    metadata = json.loads((copy / "model_metadata.json").read_text())
    metadata.pop("arrays_sha256")
    (copy / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError):
        LearnedDecision.load(copy)


def test_the_bundled_decision_leaves_the_bundled_clean_samples_alone():
    from artrestore.imageio import read_image
    from artrestore.restorer import HybridRestorer

    bundled = LearnedDecision.load()
    assert 0 < bundled.clean_threshold <= 1 and bundled.metadata["clean_guard"]["nodes"] > 0
    restorer = HybridRestorer(use_dl=False)
    samples = sorted((BUNDLED_DECISION.parents[1] / "samples" / "clean").glob("*.jpg"))
    assert samples
    for path in samples:
        image = read_image(path)
        out, info = restorer.restore(image, "auto")
        assert info["method"] == NONE, path.name
        np.testing.assert_array_equal(out, image)


def test_the_reason_for_leaving_an_image_is_given(tmp_path):
    from artrestore.decision import LEFT_NO_GAIN, LEFT_UNDAMAGED

    guarded, forest = _with_guard(tmp_path)
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(200):
        v = rng.normal(size=27).astype(np.float32)
        decision = guarded.decide(v, 384 * 384)
        p_clean = forest.predict_proba(v[None])[0, 1]
        expected = LEFT_UNDAMAGED if p_clean >= 0.5 else (LEFT_NO_GAIN if decision.path == NONE else "")
        assert decision.reason == expected and decision.as_dict().get("reason", "") == expected
        seen.add(expected)
    assert seen == {LEFT_UNDAMAGED, LEFT_NO_GAIN, ""}


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
