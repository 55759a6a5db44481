"""The severity refit: rows are the routing features of the documented damage draws, and a refitted
decision learns the label from them while its gain forest stays exactly the bundled one."""
import json
import shutil

import numpy as np
import pytest

from artrestore.training import severity_fit


def test_the_refit_learns_the_label_and_keeps_the_gain_forest(tmp_path):
    from artrestore.decision import BUNDLED_DECISION, LearnedDecision

    start = tmp_path / "start"
    shutil.copytree(BUNDLED_DECISION, start)
    rng = np.random.default_rng(3)
    n = 600
    x = rng.normal(size=(n, 27))
    level = np.digitize(x[:, 5], [-0.5, 0.5])  # the label is a function of one feature
    rows = {"x": x, "level": level, "source": np.arange(n) // 3, "paths": np.array(["/data/a.png"]),
            "max_side": 384, "draws": 1, "seed0": 0}
    report = severity_fit.refit_severity(start, rows, tmp_path / "new")
    new, old = LearnedDecision.load(tmp_path / "new"), LearnedDecision.load(start)
    probe = rng.normal(size=(200, 27))
    np.testing.assert_array_equal(new.predict_gains(probe), old.predict_gains(probe))
    truth = np.array(["light", "moderate", "severe"])[np.digitize(probe[:, 5], [-0.5, 0.5])]
    assert (np.array(new.classes)[new.predict_severity_proba(probe).argmax(1)] == truth).mean() > 0.9
    assert report["accuracy"]["collected_out_of_fold"] > 0.9
    assert report["rows"]["collected"] == n and report["rows"]["outcome_rows"] > 0
    choice = report["setting_choice"]
    assert len(choice["tried"]) == len(severity_fit.TREES) * len(severity_fit.LEAF_SIZES)
    accuracy = {(t["n_estimators"], t["min_samples_leaf"]): t["out_of_fold_accuracy"] for t in choice["tried"]}
    nodes = {(t["n_estimators"], t["min_samples_leaf"]): t["nodes_fitted_on_collected_rows"] for t in choice["tried"]}
    chosen = (choice["chosen"]["n_estimators"], choice["chosen"]["min_samples_leaf"])
    assert chosen == severity_fit.choose_setting(accuracy, nodes)
    assert (report["forest"]["n_estimators"], report["forest"]["min_samples_leaf"]) == chosen
    assert (tmp_path / "new" / "outcomes_train.csv").exists()
    # The metadata's cross-validation figures now describe the new forest, not the replaced one.
    assert new.metadata["cross_validation"]["severity_accuracy"] == report["accuracy"]["outcome_rows_unseen"]
    assert sum(map(sum, new.metadata["cross_validation"]["severity_confusion"]["matrix"])) == report["rows"]["outcome_rows"]
    with pytest.raises(ValueError, match="new folder"):
        severity_fit.refit_severity(start, rows, start)
    with pytest.raises(ValueError, match="routing features"):
        severity_fit.refit_severity(start, rows | {"x": x[:, :5]}, tmp_path / "bad")


def test_the_setting_is_the_smallest_forest_within_the_slack_of_the_best():
    slack = severity_fit.ACCURACY_SLACK
    nodes = {(200, 2): 300, (200, 4): 200, (100, 4): 100, (50, 8): 20}
    accuracy = {(200, 2): 0.82, (200, 4): 0.82 - slack / 2, (100, 4): 0.82 - slack / 2, (50, 8): 0.82 - 2 * slack}
    assert severity_fit.choose_setting(accuracy, nodes) == (100, 4)
    assert severity_fit.choose_setting({**accuracy, (50, 8): 0.83}, nodes) == (50, 8)
    # equal nodes: the more accurate
    assert severity_fit.choose_setting({"a": 0.80, "b": 0.801}, {"a": 5, "b": 5}) == "b"


def test_the_score_counts_each_family_and_level_apart(tmp_path):
    from artrestore.decision import BUNDLED_DECISION, LearnedDecision

    decision = LearnedDecision.load(BUNDLED_DECISION)
    x = np.random.default_rng(4).normal(size=(60, 27))
    said = decision.predict_severity_proba(x).argmax(1)
    classes = list(decision.classes)
    order = [classes.index(level) for level in ("light", "moderate", "severe")]
    level = np.array([order.index(k) for k in said])  # the level index each row is labelled
    family = np.array(["a"] * 30 + ["b"] * 30)
    wrong = level.copy()
    wrong[30:] = (level[30:] + 1) % 3  # family b: every label is another level than the forest's
    rows = {"x": x, "level": wrong, "family": family, "input_psnr": np.linspace(10, 40, 60)}
    report = severity_fit.score_rows(BUNDLED_DECISION, rows)
    assert report["rows"] == 60 and report["accuracy"] == 0.5
    assert report["families"]["a"]["accuracy"] == 1.0 and report["families"]["b"]["accuracy"] == 0.0
    matrix = np.array(report["families"]["b"]["confusion"]["matrix"])
    assert matrix.sum() == 30 and np.trace(matrix) == 0
    assert report["families"]["a"]["input_psnr"]["light"] == np.mean(rows["input_psnr"][:30][wrong[:30] == 0])
    severity_fit.main(["score", "--rows", str(_saved(tmp_path, rows)), "--decision", str(BUNDLED_DECISION),
                       "--out", str(tmp_path / "score.json")])
    assert json.loads((tmp_path / "score.json").read_text())["accuracy"] == 0.5


def _saved(tmp_path, rows):
    path = tmp_path / "rows.npz"
    np.savez(path, **rows, source=np.arange(len(rows["level"])), paths=np.array([f"/d/{k}.png" for k in range(60)]),
             max_side=384, draws=1, seed0=0)
    return path
