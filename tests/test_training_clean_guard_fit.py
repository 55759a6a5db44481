"""Fitting the clean guard: the threshold rule worked by hand, and a fitted guard that learns
undamaged images while the decision's other forests stay exactly as they were."""
import shutil

import numpy as np
import pytest

from artrestore.training import clean_guard_fit as cg

sklearn = pytest.importorskip("sklearn")


def test_the_threshold_rule_worked_by_hand():
    # Two undamaged rows (auto loses 5 and 3 dB on them), two light (+1.0, -0.5), one moderate, one severe.
    p = np.array([0.95, 0.35, 0.65, 0.45, 0.10, 0.05])
    gains = np.array([-5.0, -3.0, 1.0, -0.5, 2.0, 3.0])
    levels = np.array(["clean", "clean", "light", "light", "moderate", "severe"])
    # Without the guard light gains +0.25. Up to 0.6 the guard takes the +1.0 light row (light <= 0):
    # unsafe. From 0.7 to 0.9 it leaves only the first undamaged row: mean (-1.5 + 0.25 + 2 + 3) / 4;
    # at 1.0 it never acts: (-4 + 0.25 + 2 + 3) / 4. Ties go to the higher threshold: 0.9.
    threshold, table = cg.choose_threshold(p, gains, levels)
    assert threshold == 0.9
    row = {r["threshold"]: r for r in table}
    assert [row[t]["safe"] for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)] == [False] * 4 + [True] * 4
    assert row[0.9]["mean_of_levels_db"] == pytest.approx((-1.5 + 0.25 + 2 + 3) / 4)
    assert row[1.0]["mean_of_levels_db"] == pytest.approx((-4 + 0.25 + 2 + 3) / 4)
    assert row[0.9]["guarded_share"] == {"clean": 0.5, "light": 0.0, "moderate": 0.0, "severe": 0.0}
    # A validation row the guard would take at 0.9 (light, +1 dB) makes 0.7-0.9 unsafe there: 1.0.
    check = (np.array([0.92, 0.1]), np.array([1.0, 0.0]), np.array(["light", "light"]))
    assert cg.choose_threshold(p, gains, levels, (check,))[0] == 1.0


def _outcome_rows(decision, n, rng, family="broad"):
    from artrestore.analysis import ROUTING_FEATURE_NAMES

    rows = []
    for i in range(n):
        severity = ("clean", "light", "moderate", "severe")[i % 4]
        f = rng.normal(0, 1, 27) + (0 if severity == "clean" else 6)
        row = {"source": f"o{i // 4}", "family": family, "severity": severity, "seed": 0, "height": 100, "width": 100,
               **{f"f_{k}": float(v) for k, v in zip(ROUTING_FEATURE_NAMES, f)},
               "psnr_none": 30.0, "ssim_none": 0.9, "ms_none": 1.0, "method_none": "none"}
        for path in decision.paths:
            row.update({f"psnr_{path}": 30.0 + (-4.0 if severity == "clean" else 1.0), f"ssim_{path}": 0.9,
                        f"ms_{path}": 5.0, f"method_{path}": path})
        rows.append(row)
    return rows


def _write(path, rows):
    from artrestore.training.routing_outcomes import write_outcomes

    write_outcomes(path, rows)
    return path


def test_a_fitted_guard_learns_undamaged_rows_and_keeps_the_other_forests(tmp_path):
    import cv2

    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.decision import BUNDLED_DECISION, NONE, LearnedDecision
    from artrestore.imageio import read_image

    start = tmp_path / "start"
    shutil.copytree(BUNDLED_DECISION, start)
    old = LearnedDecision.load(start)
    rng = np.random.default_rng(5)
    images = tmp_path / "crops"
    images.mkdir()
    for k in range(12):  # smooth random pictures: their routing features are the undamaged rows
        cv2.imwrite(str(images / f"{k}.png"), cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), np.uint8), (0, 0), 3))
    paths = np.array(sorted(str(p) for p in images.glob("*.png")))
    clean_x = np.array([routing_vector(shrink_to(read_image(p), 384)) for p in paths])
    # Damaged rows: the same images' features moved far away, three per image.
    damaged = np.repeat(clean_x, 3, axis=0) + 50.0
    rows = {"x": damaged, "level": np.tile([0, 1, 2], 12), "source": np.repeat(np.arange(12), 3), "paths": paths,
            "max_side": 384, "draws": 1, "seed0": 0}
    outcomes = _write(tmp_path / "outcomes.csv", _outcome_rows(old, 80, rng))
    report = cg.fit_guard(start, rows, [outcomes], tmp_path / "new", validation_csvs=[outcomes])
    new = LearnedDecision.load(tmp_path / "new")
    probe = rng.normal(size=(50, 27))
    np.testing.assert_array_equal(new.predict_gains(probe), old.predict_gains(probe))
    np.testing.assert_array_equal(new.predict_severity_proba(probe), old.predict_severity_proba(probe))
    assert report["rows"] == {**report["rows"], "collected_damaged": 36, "collected_undamaged": 12, "outcome_rows": 80,
                              "validation_rows": 80}
    assert report["threshold"] in cg.THRESHOLDS and new.clean_threshold == report["threshold"]
    assert report["out_of_fold"]["roc_auc_outcome_rows"] > 0.95
    assert (new.predict_clean_proba(clean_x) >= new.clean_threshold).all()
    assert (new.predict_clean_proba(damaged) < 0.5).all()
    assert new.decide(clean_x[0], 160 * 120).path == NONE
    assert (tmp_path / "new" / "outcomes_train.csv").exists()
    with pytest.raises(ValueError, match="new folder"):
        cg.fit_guard(start, rows, [outcomes], start)
    check = _write(tmp_path / "check.csv", _outcome_rows(old, 8, rng, family="check"))
    with pytest.raises(ValueError, match="broad"):
        cg.fit_guard(start, rows, [check], tmp_path / "bad")
    with pytest.raises(ValueError, match="broad"):
        cg.fit_guard(start, rows, [outcomes], tmp_path / "bad2", validation_csvs=[check])
