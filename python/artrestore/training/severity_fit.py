"""The decision's severity classifier, refitted on many more damaged training images (issue 16).

The learned decision (``decision.py``) labels every image light / moderate / severe with a random
forest on the 27 routing features. Fitted by ``decision_fit`` on the routing outcomes alone (59
sources x 2 draws per level: 354 damaged rows), it reached 0.70 out of fold and 0.66 on the
collected training images. The label does not need a path's outcome, only the image's features and
the severity the damage was drawn at, so it can learn from every training image there is.

- Rows come from ``severity_rows`` (``collect_rows``: the routing features of damaged training
  images, with each row's level, source image, damage family and input PSNR; ``merge_rows``).
- ``score_rows(decision_folder, rows)``: a decision's severity accuracy per family and level.
- ``refit_severity(decision_folder, rows, out_folder)``: a forest fitted on those rows plus the
  decision's own damaged outcome rows replaces the severity forest; the gain forest, margins,
  costs and time models are copied unchanged (checked: the gain predictions are identical).
  Accuracy is reported out of fold on the collected rows (folds grouped by image) and on the
  outcome rows by a forest that never saw them (their sources are not among the collected ones).
  The number of trees and the leaf size are chosen on the same folds (``choose_setting``: the
  forest with the fewest nodes within ``ACCURACY_SLACK`` of the most accurate setting's accuracy),
  the rest of the setting is ``FOREST``.

Training images and the training and choosing families only: the check family is never read here.

    python -m artrestore.training.severity_fit collect --train .devdata/extra_0 ... --out work/severity_rows.npz
    python -m artrestore.training.severity_fit fit --rows work/severity_rows.npz [more.npz] \
        --decision python/artrestore/models/decision --out work/decision_severity
    python -m artrestore.training.severity_fit score --rows work/val_rows.npz --decision work/decision_severity
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib

import numpy as np

from artrestore._outcomes import OUTCOME_SIDE
from artrestore.training.severity_rows import MIX, SEED0, collect_rows, merge_rows

log = logging.getLogger(__name__)

__all__ = ["score_rows", "refit_severity", "choose_setting", "FOREST", "TREES", "LEAF_SIZES"]

# max_features 0.5 scored best of three settings out of fold on the collected rows (0.82 against
# 0.80 for decision_fit's "sqrt"), and on the outcome rows (0.80 against 0.77).
FOREST = {"max_features": 0.5}
# Trees and leaf size are chosen per refit, on the collected rows out of fold: the setting with the
# fewest nodes whose accuracy is within ACCURACY_SLACK of the best setting's. 200 trees with leaves
# of 2 made a 319 134-node forest (15 MB of arrays, loaded by every restorer at start-up). A forest
# of k trees is the first k trees of the TREES[-1]-tree forest with the same seed (scikit-learn
# draws the trees' seeds in order), so the folds' forests are fitted once per leaf size.
TREES = (50, 100, 200)
LEAF_SIZES = (2, 4, 8, 16, 32)
ACCURACY_SLACK = 0.005
FOLDS = 5


def score_rows(decision_folder, rows: dict) -> dict:
    """The severity accuracy of the decision in ``decision_folder`` on ``rows``: overall, per family and
    per family and level, with the confusion table (rows: true level, columns: predicted) and the
    mean input PSNR per family and level."""
    from artrestore.decision import LearnedDecision
    from artrestore.training.damage_ranges import SEVERITIES

    decision = LearnedDecision.load(pathlib.Path(decision_folder))
    truth = np.array(SEVERITIES)[np.asarray(rows["level"])]
    predicted = np.array(decision.classes)[decision.predict_severity_proba(np.asarray(rows["x"])).argmax(1)]
    families = np.asarray(rows["family"])
    report = {"rows": int(len(truth)), "accuracy": float((predicted == truth).mean()), "families": {}}
    for name in sorted(set(families.tolist())):
        mine = families == name
        report["families"][name] = {
            "rows": int(mine.sum()), "accuracy": float((predicted[mine] == truth[mine]).mean()),
            "per_level": {level: float((predicted[mine & (truth == level)] == level).mean()) for level in SEVERITIES},
            "input_psnr": {level: float(np.mean(rows["input_psnr"][mine & (truth == level)])) for level in SEVERITIES},
            "confusion": {"labels": list(SEVERITIES), "matrix": [[int(np.sum(mine & (truth == t) & (predicted == q)))
                                                                    for q in SEVERITIES] for t in SEVERITIES]}}
    return report


def _outcome_rows(folder: pathlib.Path, names) -> tuple[np.ndarray, np.ndarray]:
    from artrestore.training.routing_outcomes import read_outcomes

    rows = [r for csv in sorted(folder.glob("outcomes_*.csv")) for r in read_outcomes(csv) if r["severity"] != "clean"]
    return (np.array([[r[f"f_{n}"] for n in names] for r in rows], np.float64).reshape(len(rows), len(names)),
            np.array([r["severity"] for r in rows]))


def choose_setting(accuracy: dict, nodes: dict):
    """The setting (key of both dicts) with the fewest nodes among those whose accuracy is within
    ``ACCURACY_SLACK`` of the best one's (ties: the more accurate)."""
    best = max(accuracy.values())
    return min((key for key, value in accuracy.items() if value >= best - ACCURACY_SLACK),
               key=lambda key: (nodes[key], -accuracy[key]))


def _first_trees_predict(model, x: np.ndarray, trees: int) -> np.ndarray:
    """The class the model's first ``trees`` trees vote for (mean of their probabilities)."""
    proba = np.mean([tree.predict_proba(x) for tree in model.estimators_[:trees]], axis=0)
    return model.classes_[proba.argmax(1)]


def refit_severity(decision_folder, rows: dict, out_folder, *, seed: int = 0, trees=TREES,
                   leaf_sizes=LEAF_SIZES) -> dict:
    """Write a copy of the decision in ``decision_folder`` with the severity forest refitted on
    ``rows`` (``collect_rows``) plus the decision's damaged outcome rows, its trees and leaf size
    chosen out of fold among ``trees`` x ``leaf_sizes`` (``choose_setting``); returns the report."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import confusion_matrix

    from artrestore.analysis import ROUTING_FEATURE_NAMES
    from artrestore.decision import LearnedDecision, export_forest_arrays
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.decision_rows import save_refit

    source_folder, out_folder = pathlib.Path(decision_folder), pathlib.Path(out_folder)
    if source_folder.resolve() == out_folder.resolve():
        raise ValueError("refit_severity writes a new folder; copy it over the bundled one after checking it")
    old = LearnedDecision.load(source_folder)
    arrays = dict(np.load(source_folder / "decision.npz"))
    metadata = json.loads((source_folder / "model_metadata.json").read_text())
    x, level, source = np.asarray(rows["x"], np.float64), np.asarray(rows["level"]), np.asarray(rows["source"])
    if x.ndim != 2 or x.shape[1] != len(ROUTING_FEATURE_NAMES):
        raise ValueError(f"rows: expected n x {len(ROUTING_FEATURE_NAMES)} routing features, got {x.shape}")
    labels = np.array(SEVERITIES)[level]
    outcome_x, outcome_labels = _outcome_rows(source_folder, ROUTING_FEATURE_NAMES)

    fold = np.random.default_rng(seed).integers(0, FOLDS, source.max() + 1)[source]
    def fitted(n_trees, leaf, rows_x, rows_y):
        model = RandomForestClassifier(**FOREST, n_estimators=n_trees, min_samples_leaf=leaf, random_state=seed,
                                       n_jobs=2)
        return model.fit(rows_x, rows_y)

    tried, nodes = {}, {}
    for leaf in leaf_sizes:
        predicted = {n: np.empty(len(labels), dtype=object) for n in trees}
        for k in range(FOLDS):
            model = fitted(max(trees), leaf, x[fold != k], labels[fold != k])
            for n in trees:
                predicted[n][fold == k] = _first_trees_predict(model, x[fold == k], n)
        whole = fitted(max(trees), leaf, x, labels)
        for n in trees:
            tried[n, leaf] = predicted[n]
            nodes[n, leaf] = int(sum(tree.tree_.node_count for tree in whole.estimators_[:n]))
            log.info("%d trees, min_samples_leaf %d: out-of-fold accuracy %.4f, %d nodes", n, leaf,
                     (predicted[n] == labels).mean(), nodes[n, leaf])
    accuracy = {key: float((value == labels).mean()) for key, value in tried.items()}
    n_trees, leaf = choose_setting(accuracy, nodes)
    out_of_fold = tried[n_trees, leaf]

    def forest():
        return RandomForestClassifier(**FOREST, n_estimators=n_trees, min_samples_leaf=leaf, random_state=seed,
                                      n_jobs=2)

    unseen_outcomes = forest().fit(x, labels).predict(outcome_x) if len(outcome_x) else np.array([])
    final = forest().fit(np.concatenate([x, outcome_x]), np.concatenate([labels, outcome_labels]))
    classes = [str(c) for c in final.classes_]
    old_labels = np.array(old.classes)[old.predict_severity_proba(x).argmax(1)]
    previous = {"collected_rows": float((old_labels == labels).mean()),
                "cross_validation": metadata.get("cross_validation", {}).get("severity_accuracy")}
    report = {
        "rows": {"collected": int(len(labels)), "collected_images": int(len(np.unique(source))),
                 "outcome_rows": int(len(outcome_labels)), "max_side": int(rows["max_side"]),
                 "draws": np.asarray(rows["draws"]).tolist(), "seed0": np.asarray(rows["seed0"]).tolist(),
                 "families": {str(k): int(v) for k, v in zip(*np.unique(rows.get("family", ["broad"] * len(labels)),
                                                                      return_counts=True))},
                 "folders": sorted({str(pathlib.Path(p).parent) for p in rows["paths"]})},
        "forest": FOREST | {"n_estimators": n_trees, "min_samples_leaf": leaf, "random_state": seed,
                            "max_features_note": "fraction of the 27 features"},
        "setting_choice": {"rule": f"fewest nodes within {ACCURACY_SLACK} of the best out-of-fold accuracy "
                                   "on the collected rows",
                           "tried": [{"n_estimators": n, "min_samples_leaf": lf, "out_of_fold_accuracy": accuracy[n, lf],
                                      "nodes_fitted_on_collected_rows": nodes[n, lf]} for n, lf in sorted(accuracy)],
                           "chosen": {"n_estimators": n_trees, "min_samples_leaf": leaf}},
        "accuracy": {
            "collected_out_of_fold": float((out_of_fold == labels).mean()),
            "outcome_rows_unseen": float((unseen_outcomes == outcome_labels).mean()) if len(outcome_x) else None,
            "confusion_collected_out_of_fold": {
                "labels": classes, "matrix": confusion_matrix(labels, out_of_fold.astype(str), labels=classes).tolist()},
            "previous_forest": previous},
    }
    arrays.update(export_forest_arrays(final, "severity", normalise_leaves=True))
    metadata["severity_classes"] = classes
    metadata["nodes"] = {**metadata.get("nodes", {}), "severity": int(arrays["severity_feature"].size)}
    metadata["severity_refit"] = report
    # decision_fit's out-of-fold figures described the replaced forest; these are the new one's on
    # the same outcome rows (by a forest fitted without them), so the metadata does not go stale.
    if len(outcome_x):
        metadata.setdefault("cross_validation", {}).update(
            severity_accuracy=report["accuracy"]["outcome_rows_unseen"],
            severity_confusion={"labels": classes, "matrix": confusion_matrix(
                outcome_labels, unseen_outcomes.astype(str), labels=classes).tolist()},
            severity_by="severity_refit: a forest fitted on the collected rows only, scored on these outcome rows")
    new = save_refit(source_folder, out_folder, arrays, metadata)
    np.testing.assert_array_equal(new.predict_gains(x), old.predict_gains(x))
    np.testing.assert_allclose(new.predict_severity_proba(x), final.predict_proba(x), rtol=1e-9, atol=1e-9)
    if old.predict_clean_proba(x) is not None:  # the clean guard travels unchanged
        np.testing.assert_array_equal(new.predict_clean_proba(x), old.predict_clean_proba(x))
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    c = steps.add_parser("collect", help="routing features of damaged training images")
    c.add_argument("--train", action="append", required=True, help="folder of clean training images (repeatable)")
    c.add_argument("--out", required=True, help=".npz of rows")
    c.add_argument("--max-side", type=int, default=OUTCOME_SIDE)
    c.add_argument("--draws", type=int, default=2)
    c.add_argument("--workers", type=int, default=2)
    c.add_argument("--family", default="broad", help=f"damage family, or {MIX!r} (default: broad)")
    c.add_argument("--seed0", type=int, default=SEED0)
    f = steps.add_parser("fit", help="a copy of a decision with the severity forest refitted")
    f.add_argument("--rows", nargs="+", required=True, help="collect's .npz file(s), merged")
    f.add_argument("--decision", required=True, help="decision folder to start from")
    f.add_argument("--out", required=True, help="new decision folder")
    s = steps.add_parser("score", help="a decision's severity accuracy on collected rows")
    s.add_argument("--rows", nargs="+", required=True)
    s.add_argument("--decision", required=True)
    s.add_argument("--out", default=None, help="JSON report (default: the log only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.step == "collect":
        rows = collect_rows(args.train, max_side=args.max_side, draws=args.draws, workers=args.workers,
                            family=args.family, seed0=args.seed0)
        np.savez(args.out, **rows)
        log.info("%d rows from %d images -> %s", len(rows["level"]), len(rows["paths"]), args.out)
        return 0
    rows = merge_rows(dict(np.load(path)) for path in args.rows)
    if args.step == "fit":
        report = refit_severity(args.decision, rows, args.out)
        log.info("severity accuracy: %s", json.dumps(report["accuracy"]))
    else:
        report = score_rows(args.decision, rows)
        log.info("severity accuracy %.4f: %s", report["accuracy"],
                 {name: round(f["accuracy"], 4) for name, f in report["families"].items()})
        if args.out:
            pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
