"""Fitting the learned decision from outcome data (training only; scikit-learn needed here only).

In: one or more outcome CSVs of the TRAINING damage family (``training.routing_outcomes``; rows of
the check family are refused). Out: a decision folder (``artrestore.decision``): a multi-output
random forest predicting each path's PSNR gain over the input (dB) from the 27 routing features, a
random-forest classifier of the damage model's severity, per-path time models, and the choice
rule's constants, all chosen on out-of-fold predictions (folds grouped by source image, so no
image is scored by a model that saw it):

- ``margin_db`` (do no harm): the smallest margin on the predicted gain at which no severity, and
  not the undamaged rows, loses on average; among those, the one of highest mean realised gain.
- ``cost_db_per_s`` for ``prefer``: ``quality`` 0; ``balanced`` the smallest cost at which the
  chosen paths take at most ``balanced_time_fraction`` of always-U-Net's time; ``speed`` the
  smallest at which they take at most ``speed_time_fraction`` of it.
- Time model per path: seconds = b x megapixels, b the median over the outcome rows; the
  ``accelerated`` profile divides the U-Net's by ``gpu_speedup`` (a GPU-served U-Net, as the
  router's calibration assumes).

The lead wires this as ``artrestore train decision``::

    python -m artrestore.training.decision_fit --outcomes work/routing/outcomes_train.csv \
        --out python/artrestore/models/decision
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import pathlib
import shutil

import numpy as np

from artrestore import __version__
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import NONE, LearnedDecision, export_forest_arrays, save_decision
from artrestore.training.routing_outcomes import CLEAN, read_outcomes

log = logging.getLogger(__name__)

__all__ = ["fit_decision", "route_table", "main"]

DL = "deep_learning"
MARGINS_DB = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)
COSTS_DB_PER_S = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _paths(rows: list[dict]) -> list[str]:
    return [k[5:] for k in rows[0] if k.startswith("psnr_") and k[5:] != NONE]


def _matrix(rows, paths):
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for r in rows], np.float32)
    gains = np.array([[r[f"psnr_{p}"] - r[f"psnr_{NONE}"] for p in paths] for r in rows], np.float64)
    seconds = np.array([[r[f"ms_{p}"] / 1e3 for p in paths] for r in rows], np.float64)
    return x, gains, seconds


def route_table(predicted_gains: np.ndarray, expected_s: np.ndarray, margin: float, cost: float) -> np.ndarray:
    """Index of the chosen path per row (-1 = none), by the rule of ``LearnedDecision.choose``."""
    utility = predicted_gains - cost * expected_s
    eligible = (predicted_gains > margin) & (utility > 0)
    utility = np.where(eligible, utility, -np.inf)
    best = np.argmax(utility, axis=1)
    return np.where(np.isfinite(utility[np.arange(len(best)), best]), best, -1)


def _realised(choice, gains, seconds, none_s):
    rows = np.arange(len(choice))
    gain = np.where(choice >= 0, gains[rows, np.maximum(choice, 0)], 0.0)
    time = np.where(choice >= 0, seconds[rows, np.maximum(choice, 0)], none_s)
    return gain, time


def fit_decision(outcome_csvs, out_folder, *, seed: int = 0, n_estimators: int = 100, min_samples_leaf: int = 3,
                 folds: int = 5, balanced_time_fraction: float = 0.4, speed_time_fraction: float = 0.1,
                 gpu_speedup: float = 60.0, copy_outcomes: bool = True) -> pathlib.Path:
    """Fit, cross-validate, calibrate and save the decision; returns the folder."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import confusion_matrix, r2_score
    from sklearn.model_selection import GroupKFold

    csvs = [pathlib.Path(p) for p in ([outcome_csvs] if isinstance(outcome_csvs, (str, pathlib.Path))
                                      else outcome_csvs)]
    rows = [r for p in csvs for r in read_outcomes(p)]
    families = {r["family"] for r in rows}
    if families != {"broad"}:
        raise ValueError(f"the decision is fitted on the training (broad) family only; got {sorted(families)}")
    paths = _paths(rows)
    if DL not in paths:
        log.warning("no %s path in the outcomes; the time calibration uses the slowest path instead", DL)
    x, gains, seconds = _matrix(rows, paths)
    none_s = np.array([r[f"ms_{NONE}"] / 1e3 for r in rows])
    severity = np.array([r["severity"] for r in rows])
    damaged = severity != CLEAN
    groups = np.array([r["source"] for r in rows])
    mp = np.array([r["height"] * r["width"] / 1e6 for r in rows])

    def regressor():
        return RandomForestRegressor(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, max_features=0.5,
                                     random_state=seed, n_jobs=1)

    def classifier():
        return RandomForestClassifier(n_estimators=n_estimators, min_samples_leaf=2, max_features="sqrt",
                                      random_state=seed, n_jobs=1)

    # Out-of-fold predictions, folds grouped by source image.
    n_folds = min(folds, len(set(groups)))
    oof_gain = np.zeros_like(gains)
    oof_severity = np.empty(len(rows), dtype=object)
    for train, test in GroupKFold(n_folds).split(x, groups=groups):
        oof_gain[test] = regressor().fit(x[train], gains[train]).predict(x[test])
        sev_train = train[damaged[train]]
        oof_severity[test] = classifier().fit(x[sev_train], severity[sev_train]).predict(x[test])

    # Time model: seconds per megapixel, median over rows.
    per_mp = {p: float(np.median(seconds[:, i] / mp)) for i, p in enumerate(paths)}
    time_model = {"local": {p: [0.0, per_mp[p]] for p in paths},
                  "accelerated": {p: [0.0, per_mp[p] / (gpu_speedup if p == DL else 1.0)] for p in paths}}
    expected = np.stack([per_mp[p] * mp for p in paths], axis=1)

    slowest = paths.index(DL) if DL in paths else int(np.argmax([per_mp[p] for p in paths]))
    always_slowest_s = float(seconds[:, slowest].mean())
    groups_for_harm = [severity == s for s in sorted(set(severity))]

    def evaluate(margin, cost):
        choice = route_table(oof_gain, expected, margin, cost)
        gain, time = _realised(choice, gains, seconds, none_s)
        worst = min(float(gain[g].mean()) for g in groups_for_harm)
        return {"mean_gain_db": float(gain[damaged].mean()), "worst_severity_gain_db": worst,
                "time_fraction_of_slowest": float(time.mean() / always_slowest_s)}

    def pick_margin(cost):
        scored = [(m, evaluate(m, cost)) for m in MARGINS_DB]
        safe = [(m, e) for m, e in scored if e["worst_severity_gain_db"] >= 0]
        return max(safe, key=lambda me: me[1]["mean_gain_db"])[0] if safe else MARGINS_DB[-1]

    def pick_cost(fraction, margin):
        for cost in COSTS_DB_PER_S:
            if evaluate(margin, cost)["time_fraction_of_slowest"] <= fraction:
                return cost
        return COSTS_DB_PER_S[-1]

    margin = pick_margin(0.0)
    balanced = pick_cost(balanced_time_fraction, margin)
    margin = pick_margin(balanced)  # the margin that keeps the default profile harmless
    costs = {"quality": 0.0, "balanced": balanced, "speed": max(balanced, pick_cost(speed_time_fraction, margin))}
    oracle = np.maximum(gains.max(axis=1), 0.0)

    # Final models on all rows.
    gain_forest = regressor().fit(x, gains)
    severity_forest = classifier().fit(x[damaged], severity[damaged])
    arrays = {**export_forest_arrays(gain_forest, "gain"),
              **export_forest_arrays(severity_forest, "severity", normalise_leaves=True)}
    classes = [str(c) for c in severity_forest.classes_]
    sev_true, sev_pred = severity[damaged], oof_severity[damaged].astype(str)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in csvs)).hexdigest()
    metadata = {
        "version": __version__,
        "kind": "RandomForestRegressor (gains) + RandomForestClassifier (severity)",
        "paths": paths, "severity_classes": classes, "margin_db": margin, "cost_db_per_s": costs,
        "time_model": time_model, "time_model_units": "seconds = a + b x megapixels", "gpu_speedup": gpu_speedup,
        "hyperparameters": {"n_estimators": n_estimators, "min_samples_leaf": min_samples_leaf,
                            "max_features_regressor": 0.5, "max_features_classifier": "sqrt", "random_state": seed},
        "calibration": {"balanced_time_fraction": balanced_time_fraction, "speed_time_fraction": speed_time_fraction,
                        "margins_tried_db": list(MARGINS_DB), "costs_tried_db_per_s": list(COSTS_DB_PER_S),
                        "out_of_fold": {pref: evaluate(margin, cost) for pref, cost in costs.items()},
                        "oracle_mean_gain_db": float(oracle[damaged].mean())},
        "data": {"outcomes": [p.name for p in csvs], "outcomes_sha256": digest, "rows": len(rows),
                 "sources": len(set(groups)), "severities": {s: int((severity == s).sum()) for s in sorted(set(severity))},
                 "families": sorted(families)},
        "cross_validation": {
            "folds": n_folds, "grouped_by": "source image",
            "gain_r2": {p: float(r2_score(gains[:, i], oof_gain[:, i])) for i, p in enumerate(paths)},
            "gain_mae_db": {p: float(np.abs(gains[:, i] - oof_gain[:, i]).mean()) for i, p in enumerate(paths)},
            "severity_accuracy": float((sev_true == sev_pred).mean()),
            "severity_confusion": {"labels": classes,
                                   "matrix": confusion_matrix(sev_true, sev_pred, labels=classes).tolist()}},
        "nodes": {"gain": int(arrays["gain_feature"].size), "severity": int(arrays["severity_feature"].size)},
    }
    folder = save_decision(out_folder, arrays, metadata)
    if copy_outcomes:
        for p in csvs:
            if p.resolve() != (folder / p.name).resolve():
                shutil.copyfile(p, folder / p.name)
    # The exported arrays must reproduce scikit-learn.
    loaded = LearnedDecision.load(folder)
    np.testing.assert_allclose(loaded.predict_gains(x), gain_forest.predict(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(loaded.predict_severity_proba(x), severity_forest.predict_proba(x), rtol=1e-9, atol=1e-9)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="artrestore train decision", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", nargs="+", required=True, help="outcome CSV(s) of the training family")
    parser.add_argument("--out", required=True, help="decision folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--gpu-speedup", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    folder = fit_decision(args.outcomes, args.out, seed=args.seed, n_estimators=args.trees,
                          gpu_speedup=args.gpu_speedup)
    meta = LearnedDecision.load(folder).metadata
    cv = meta["cross_validation"]
    print(f"wrote {folder}: margin {meta['margin_db']} dB, costs {meta['cost_db_per_s']}, "
          f"severity accuracy (out of fold) {cv['severity_accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
