"""The decision's clean guard: a forest that tells an undamaged image from a damaged one (issue 16).

Why: the gain forests learn from 59 training sources, none of them a low-contrast texture (sand,
bark, an aerial tile, a foggy scene); such an image reads as faded, every path stretches it and
`auto` follows (docs/routing.md, "On the third collection": undamaged textures lost 9-21 dB). A
guard in front of the choice leaves an image that looks undamaged as it is.

In (training images only; the check family is never read here):
- ``rows``: ``severity_fit.collect_rows``'s npz (routing features of the collected crops, each
  damaged by the training family at every severity; ``paths`` names the crops), whose undamaged
  crops this module measures too (``clean_rows``);
- outcome CSVs of the training family (``artrestore routing outcomes``), clean and damaged rows,
  on which `auto`'s realised gain with the guard is replayed to choose the threshold.

Out: a copy of a decision folder with the guard forest (``decision.GUARD_FOREST`` arrays: a
random-forest classifier, classes damaged / undamaged, on the 27 routing features) and
``clean_guard`` in its metadata (threshold, forest setting, rows, out-of-fold figures). The
gain and severity forests, margins, costs and time models are copied unchanged (checked).

Threshold rule (out of fold, folds grouped by source image): among ``THRESHOLDS``, the one with the
best mean of `auto`'s realised gain over the four levels (undamaged, light, moderate, severe; each
level's mean weighs the same) on the training outcome rows, among those that lower no damaged
level's mean by more than ``DAMAGED_SLACK_DB`` against no guard, there and on the validation
split's outcome rows (``--validation``: images no path, forest or guard was fitted on; most
training rows are textures, the validation split's are photographs and paintings); ties: the
higher threshold (the guard acts less).

    python -m artrestore.training.clean_guard_fit --rows work/sev/rows.npz \\
        --outcomes work/outcomes_train_run10.csv work/p3_train_outcomes.csv \\
        --validation work/outcomes_val.csv --decision python/artrestore/models/decision --out work/guard/decision
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib

import numpy as np

from artrestore._outcomes import OUTCOME_SIDE

log = logging.getLogger(__name__)

__all__ = ["clean_rows", "training_matrix", "auto_gains", "choose_threshold", "fit_guard", "FOREST", "THRESHOLDS",
           "DAMAGED_SLACK_DB"]

# 50 trees with leaves of 8: out-of-fold ROC AUC 0.970 on the 2026-12-06 rows against 0.973 for 300
# trees with leaves of 3, with a tenth of the nodes (22 112 against 218 188, 0.8 MB: every restorer
# loads them at start-up; 100 trees with leaves of 8: 0.970 with 44 196 nodes).
FOREST = {"n_estimators": 50, "min_samples_leaf": 8, "max_features": 0.5, "class_weight": "balanced"}
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # 1.0: the guard never acts (P(undamaged) < 1 mostly)
DAMAGED_SLACK_DB = 0.05
FOLDS = 5
LEVELS = ("clean", "light", "moderate", "severe")


def _clean_vector(path: str, max_side: int):
    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.imageio import read_image

    try:
        return routing_vector(shrink_to(read_image(path), max_side))
    except (OSError, ValueError) as error:
        log.warning("skipping %s: %s", path, error)
        return None


def clean_rows(paths, *, max_side: int = OUTCOME_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """(features n x 27 of the undamaged images that could be read, their indices into ``paths``)."""
    vectors = [(i, v) for i, p in enumerate(paths) if (v := _clean_vector(str(p), max_side)) is not None]
    if not vectors:
        raise ValueError("clean_rows: no readable image")
    return np.array([v for _, v in vectors]), np.array([i for i, _ in vectors])


def training_matrix(rows: dict, clean_x: np.ndarray, clean_index: np.ndarray, outcome_rows: list[dict]):
    """(x, undamaged 0/1, group) of the collected damaged rows, their undamaged crops and the
    outcome rows; groups keep every row of one source image in one fold."""
    from artrestore.training.decision_rows import outcome_matrix, path_names

    ox = outcome_matrix(outcome_rows, path_names(outcome_rows))[0] if outcome_rows else np.zeros((0, clean_x.shape[1]))
    x = np.concatenate([np.asarray(rows["x"], np.float64), clean_x, ox]).astype(np.float32)
    y = np.concatenate([np.zeros(len(rows["x"])), np.ones(len(clean_x)),
                        [r["severity"] == "clean" for r in outcome_rows]]).astype(int)
    groups = np.array([f"crop{s}" for s in rows["source"]] + [f"crop{s}" for s in clean_index]
                      + [f"outcome:{r['source']}" for r in outcome_rows])
    return x, y, groups


def auto_gains(decision, outcome_rows: list[dict]) -> np.ndarray:
    """`auto`'s realised gain (dB over the input) per outcome row with ``decision`` and no guard."""
    from artrestore.decision import NONE
    from artrestore.training.decision_rows import outcome_matrix, path_names

    x = outcome_matrix(outcome_rows, path_names(outcome_rows))[0]
    predicted = decision.predict_gains(x)
    gains = []
    for r, row_gains in zip(outcome_rows, predicted):
        path = decision.choose(dict(zip(decision.paths, map(float, row_gains))),
                               decision.expected_seconds(int(r["height"] * r["width"])))[0]
        gains.append(0.0 if path == NONE else r[f"psnr_{path}"] - r[f"psnr_{NONE}"])
    return np.array(gains)


def _level_means(p_clean, gains, levels, threshold):
    guarded = p_clean >= threshold
    realised = np.where(guarded, 0.0, gains)
    present = [lv for lv in LEVELS if (levels == lv).any()]
    return ({lv: float(realised[levels == lv].mean()) for lv in present},
            {lv: float(guarded[levels == lv].mean()) for lv in present})


def choose_threshold(p_clean: np.ndarray, gains: np.ndarray, levels: np.ndarray,
                     checks: tuple = ()) -> tuple[float, list[dict]]:
    """(threshold, table): the rule above on out-of-fold P(undamaged), `auto`'s gains without the
    guard and the rows' levels; ``checks``: more (P(undamaged), gains, levels) sets, such as the
    validation split's rows, on which no damaged level may lose more than the slack either."""
    sets = ((p_clean, gains, levels), *checks)
    bases = [_level_means(p, g, lv, np.inf)[0] for p, g, lv in sets]
    table = []
    for t in THRESHOLDS:
        per_set = [_level_means(p, g, lv, t) for p, g, lv in sets]
        means, shares = per_set[0]
        safe = all(m[lv] >= base[lv] - DAMAGED_SLACK_DB
                   for (m, _), base in zip(per_set, bases) for lv in base if lv != "clean")
        table.append({"threshold": t, "mean_of_levels_db": float(np.mean(list(means.values()))), "by_level_db": means,
                      "guarded_share": shares, "checks_by_level_db": [m for m, _ in per_set[1:]],
                      "checks_guarded_share": [sh for _, sh in per_set[1:]], "safe": safe})
    safe = [row for row in table if row["safe"]]
    if not safe:  # cannot happen with 1.0 in THRESHOLDS unless a probability of exactly 1 costs gain
        raise ValueError("clean guard: no threshold keeps every damaged level within the slack; write no guard")
    best = max(safe, key=lambda row: (round(row["mean_of_levels_db"], 6), row["threshold"]))
    return float(best["threshold"]), table


def fit_guard(decision_folder, rows: dict, outcome_csvs, out_folder, *, validation_csvs=(), seed: int = 0) -> dict:
    """Write a copy of the decision in ``decision_folder`` with the clean guard; returns its report.
    ``validation_csvs``: outcome rows of the validation split (no path and no forest fitted on
    them), where the threshold must be safe too."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score

    from artrestore.decision import GUARD_FOREST, LearnedDecision, export_forest_arrays
    from artrestore.training.decision_rows import group_folds, outcome_matrix, path_names, save_refit
    from artrestore.training.routing_outcomes import read_outcomes

    source_folder, out_folder = pathlib.Path(decision_folder), pathlib.Path(out_folder)
    if source_folder.resolve() == out_folder.resolve():
        raise ValueError("fit_guard writes a new folder; copy it over the bundled one after checking it")
    outcome_rows = [r for p in outcome_csvs for r in read_outcomes(p)]
    if not outcome_rows:
        raise ValueError("clean guard: the threshold is chosen on outcome rows; give at least one outcome CSV")
    if {r["family"] for r in outcome_rows} - {"broad"}:
        raise ValueError("the clean guard is fitted on the training (broad) family only")
    clean_x, clean_index = clean_rows(list(rows["paths"]), max_side=int(rows["max_side"]))
    x, y, groups = training_matrix(rows, clean_x, clean_index, outcome_rows)

    def forest():
        return RandomForestClassifier(**FOREST, random_state=seed, n_jobs=2)

    p_oof = np.zeros(len(y))
    for train, test in group_folds(groups, FOLDS, seed, 0):
        p_oof[test] = forest().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    n_out = len(outcome_rows)
    decision = LearnedDecision.load(source_folder)
    levels = np.array([r["severity"] for r in outcome_rows])
    final = forest().fit(x, y)
    checks, validation_rows = [], [r for p in validation_csvs for r in read_outcomes(p)]
    if validation_rows:
        if {r["family"] for r in validation_rows} - {"broad"}:
            raise ValueError("validation rows must be of the training (broad) family")
        vx = outcome_matrix(validation_rows, path_names(validation_rows))[0].astype(np.float32)
        checks.append((final.predict_proba(vx)[:, 1], auto_gains(decision, validation_rows),
                       np.array([r["severity"] for r in validation_rows])))
    threshold, table = choose_threshold(p_oof[-n_out:], auto_gains(decision, outcome_rows), levels, tuple(checks))

    arrays = dict(np.load(source_folder / "decision.npz"))
    arrays.update(export_forest_arrays(final, GUARD_FOREST, normalise_leaves=True))
    metadata = json.loads((source_folder / "model_metadata.json").read_text())
    report = {
        "threshold": threshold, "forest": {**FOREST, "random_state": seed}, "classes": ["damaged", "undamaged"],
        "rows": {"collected_damaged": int(len(rows["x"])), "collected_undamaged": int(len(clean_x)),
                 "outcome_rows": n_out, "outcomes": [pathlib.Path(p).name for p in outcome_csvs],
                 "validation_rows": len(validation_rows),
                 "validation_outcomes": [pathlib.Path(p).name for p in validation_csvs],
                 "folders": sorted({str(pathlib.Path(p).parent) for p in rows["paths"]})},
        "out_of_fold": {"roc_auc_all_rows": float(roc_auc_score(y, p_oof)),
                        "roc_auc_outcome_rows": float(roc_auc_score(y[-n_out:], p_oof[-n_out:])),
                        "thresholds": table},
        "rule": f"best mean of auto's gain over {LEVELS} (training rows, out of fold), no damaged level lower by "
                f"more than {DAMAGED_SLACK_DB} dB there nor on the validation rows; ties: the higher threshold",
        "nodes": int(arrays[f"{GUARD_FOREST}_feature"].size),
    }
    metadata["clean_guard"] = report
    new = save_refit(source_folder, out_folder, arrays, metadata)
    np.testing.assert_array_equal(new.predict_gains(x), decision.predict_gains(x))
    np.testing.assert_allclose(new.predict_clean_proba(x), final.predict_proba(x)[:, 1], rtol=1e-9, atol=1e-9)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True, help="severity_fit collect's npz (collected crops)")
    parser.add_argument("--outcomes", nargs="+", required=True, help="training-family outcome CSVs")
    parser.add_argument("--validation", nargs="*", default=[],
                        help="outcome CSVs of the validation split (artrestore routing outcomes --split val)")
    parser.add_argument("--decision", required=True, help="the decision folder to copy")
    parser.add_argument("--out", required=True, help="the new decision folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with np.load(args.rows, allow_pickle=False) as data:
        rows = {k: data[k] for k in data.files}
    report = fit_guard(args.decision, rows, args.outcomes, args.out, validation_csvs=args.validation,
                       seed=args.seed)
    log.info("threshold %.2f, out-of-fold ROC AUC %.3f (outcome rows %.3f), %d nodes", report["threshold"],
             report["out_of_fold"]["roc_auc_all_rows"], report["out_of_fold"]["roc_auc_outcome_rows"], report["nodes"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
