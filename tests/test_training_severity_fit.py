"""The severity refit: rows are the routing features of the documented damage draws, and a refitted
decision learns the label from them while its gain forest stays exactly the bundled one."""
import shutil

import numpy as np
import pytest

from artrestore.training import severity_fit


def _write_images(folder, count, seed):
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(seed)
    for k in range(count):
        image = cv2.GaussianBlur(rng.integers(0, 256, (200, 260, 3), dtype=np.uint8), (0, 0), 2)
        cv2.imwrite(str(folder / f"{k}.png"), image)


def test_collected_rows_are_the_routing_features_of_the_documented_draws(tmp_path):
    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.imageio import read_image
    from artrestore.training.broad_damage import broad_damage

    _write_images(tmp_path / "a", 2, 0)
    rows = severity_fit.collect_rows([tmp_path / "a"], max_side=128, draws=2, seed0=100, workers=1)
    assert rows["x"].shape == (2 * 3 * 2, 27)
    np.testing.assert_array_equal(rows["level"], [0, 0, 1, 1, 2, 2] * 2)
    np.testing.assert_array_equal(rows["source"], [0] * 6 + [1] * 6)
    # Image 1, severe (level 2), second draw: seed 100 + 10 x 1 + 2 x 2 + 1.
    clean = shrink_to(read_image(rows["paths"][1]), 128)
    expected = routing_vector(broad_damage(clean, "severe", 115)[0])
    np.testing.assert_allclose(rows["x"][11], expected)


def test_an_empty_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        severity_fit.collect_rows([tmp_path / "empty"], workers=1)


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
