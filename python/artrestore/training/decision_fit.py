"""Fitting the learned decision from outcome data (training only; scikit-learn needed here only).

In: one or more outcome CSVs of the TRAINING damage family (``training.routing_outcomes``; rows of
the check family are refused). Out: a decision folder (``artrestore.decision``): a multi-output
random forest predicting each path's PSNR gain over the input (dB) from the 27 routing features, a
random-forest classifier of the damage model's severity, per-path time models, and the choice
rule's constants, all chosen on out-of-fold predictions (folds grouped by source image, so no
image is scored by a model that saw it; the cross-validation is repeated ``REPEATS`` times with
other folds and forest seeds, and every measure below is the mean over the repeats):

- per ``prefer``, a margin on the predicted gain (``margin_db``, do no harm) and a cost in dB per
  second (``cost_db_per_s``; 0 for ``quality``: time is free), searched jointly on a grid: among the pairs at which
  no damaged severity loses on average with a standard error to spare (mean
  realised gain - its standard error >= 0: a margin picked on the same predictions is optimistic,
  most of all for light damage, where gains are small and a few images lose a lot), at most
  ``UNDAMAGED_CHANGED_SHARE`` of the undamaged rows come out under ``CLEAN_FLOOR_DB``, and the chosen
  paths take at most ``quality``: any,
  ``balanced``: ``balanced_time_fraction``, ``speed``: ``speed_time_fraction`` of always-U-Net's
  time, the pair of highest mean realised gain on the damaged rows (ties: the larger margin).
  (``quality`` can gain less than ``balanced``: with no price on time only the margin guards
  against harm, and the margin that keeps every severity whole is larger than what ``balanced``
  needs with its cost, which also keeps the U-Net off images where it would gain little.)
- The regressor learns gains floored at ``GAIN_FLOOR_DB``: a path that loses more than that is not
  taken either way, and the floor keeps undamaged rows (every path loses 15-30 dB against a perfect
  input) from swamping the forest's splits.
- Time model per path: seconds = b x megapixels, b the median over the outcome rows; the
  ``accelerated`` profile divides the U-Net's by ``gpu_speedup`` (a GPU-served U-Net, as the
  router's calibration assumes).

The command is ``artrestore routing decision``.
"""
from __future__ import annotations

import hashlib
import logging
import pathlib
import shutil

import numpy as np

from artrestore import __version__
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import NONE, LearnedDecision, export_forest_arrays, save_decision
from artrestore.training.routing_outcomes import CLEAN, read_outcomes
from artrestore.training.routing_outcomes import DL_PATH as DL

log = logging.getLogger(__name__)

__all__ = ["fit_decision", "route_table"]

MARGINS_DB = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
COSTS_DB_PER_S = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)
GAIN_FLOOR_DB = -3.0
# Do no harm to undamaged images: at most this share of them may come out under CLEAN_FLOOR_DB to
# the input (visibly changed; the chain's own criterion, docs/chain.md). Until 2026-11-30 night the
# undamaged rows had the damaged rows' rule (mean gain - standard error >= 0, their input capped at
# PSNR_CAP_DB): one undamaged image in 59 sent to the U-Net (-16 dB) broke it, so which margins
# were feasible turned on single images and the chosen margin with them.
CLEAN_FLOOR_DB = 38.0
UNDAMAGED_CHANGED_SHARE = 0.05
# Repeats of the grouped cross-validation the calibration averages over. With one, the margin chosen
# for ``balanced`` moved between 0.0 and 0.5 dB with the forest's seed alone (docs/routing.md).
REPEATS = 16


def _group_folds(groups: np.ndarray, n_folds: int, seed: int, repeat: int):
    """(train, test) index pairs: the distinct groups shuffled by (seed, repeat) and dealt into
    ``n_folds`` folds, so no group is on both sides."""
    names = np.unique(groups)
    order = np.random.default_rng([seed, repeat]).permutation(len(names))
    fold_of = dict(zip(names[order], np.arange(len(names)) % n_folds))
    fold = np.array([fold_of[g] for g in groups])
    for k in range(n_folds):
        yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


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


def fit_decision(outcome_csvs, out_folder, *, seed: int = 0, n_estimators: int = 200, min_samples_leaf: int = 3,
                 folds: int = 5, balanced_time_fraction: float = 0.45, speed_time_fraction: float = 0.1,
                 gpu_speedup: float = 60.0, copy_outcomes: bool = True, repeats: int = REPEATS) -> pathlib.Path:
    """Fit, cross-validate, calibrate and save the decision; returns the folder."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import confusion_matrix, r2_score

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

    def regressor(random_state=seed):
        return RandomForestRegressor(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, max_features=0.5,
                                     random_state=random_state, n_jobs=1)

    def classifier():
        return RandomForestClassifier(n_estimators=n_estimators, min_samples_leaf=2, max_features="sqrt",
                                      random_state=seed, n_jobs=1)

    # Out-of-fold predictions, folds grouped by source image; ``repeats`` times over, each with its
    # own assignment of sources to folds and its own forest seed, so that the calibration below
    # averages over the forests' and the folds' noise instead of picking from one draw of it.
    n_folds = min(folds, len(set(groups)))
    oof_gains = []
    oof_severity = np.empty(len(rows), dtype=object)
    for repeat in range(repeats):
        oof_gain = np.zeros_like(gains)
        for train, test in _group_folds(groups, n_folds, seed, repeat):
            oof_gain[test] = regressor(seed + repeat).fit(x[train], np.maximum(gains[train], GAIN_FLOOR_DB)).predict(x[test])
            if repeat == 0:
                sev_train = train[damaged[train]]
                oof_severity[test] = classifier().fit(x[sev_train], severity[sev_train]).predict(x[test])
        oof_gains.append(oof_gain)
    oof_gain = oof_gains[0]

    # Time model: seconds per megapixel, median over rows.
    per_mp = {p: float(np.median(seconds[:, i] / mp)) for i, p in enumerate(paths)}
    time_model = {"local": {p: [0.0, per_mp[p]] for p in paths},
                  "accelerated": {p: [0.0, per_mp[p] / (gpu_speedup if p == DL else 1.0)] for p in paths}}
    expected = np.stack([per_mp[p] * mp for p in paths], axis=1)

    slowest = paths.index(DL) if DL in paths else int(np.argmax([per_mp[p] for p in paths]))
    always_slowest_s = float(seconds[:, slowest].mean())
    groups_for_harm = [severity == s for s in sorted(set(severity)) if s != CLEAN]
    undamaged = ~damaged
    input_psnr = np.array([r[f"psnr_{NONE}"] for r in rows])

    def evaluate_one(predicted, margin, cost):
        choice = route_table(predicted, expected, margin, cost)
        gain, time = _realised(choice, gains, seconds, none_s)
        # Mean minus its standard error: harmless with a margin for the optimism of the selection.
        worst = min(float(gain[g].mean() - gain[g].std() / np.sqrt(max(1, g.sum() - 1))) for g in groups_for_harm)
        # Undamaged rows: the share visibly changed (output under CLEAN_FLOOR_DB to the input).
        # (Left alone, an image is unchanged whatever its table's input PSNR.)
        moved = (choice >= 0) & (input_psnr + gain < CLEAN_FLOOR_DB)
        changed = float(moved[undamaged].mean()) if undamaged.any() else 0.0
        return {"mean_gain_db": float(gain[damaged].mean()), "worst_severity_gain_db": worst,
                "undamaged_changed_share": changed,
                "time_fraction_of_slowest": float(time.mean() / always_slowest_s)}

    def evaluate(margin, cost):
        """Each measure averaged over the repeats of the cross-validation."""
        each = [evaluate_one(predicted, margin, cost) for predicted in oof_gains]
        return {key: float(np.mean([e[key] for e in each])) for key in each[0]}

    grid = {(m, c): evaluate(m, c) for m in MARGINS_DB for c in COSTS_DB_PER_S}

    def pick(fraction, costs=COSTS_DB_PER_S):
        feasible = [(key, e) for key, e in grid.items() if key[1] in costs
                    and e["worst_severity_gain_db"] >= 0 and e["undamaged_changed_share"] <= UNDAMAGED_CHANGED_SHARE
                    and e["time_fraction_of_slowest"] <= fraction]
        if not feasible:  # nothing is safe: take no path at all
            return MARGINS_DB[-1], COSTS_DB_PER_S[-1]
        return max(feasible, key=lambda ke: (round(ke[1]["mean_gain_db"], 6), ke[0][0]))[0]

    chosen = {"quality": pick(np.inf, costs=(0.0,)), "balanced": pick(balanced_time_fraction), "speed": pick(speed_time_fraction)}
    margins = {pref: float(m) for pref, (m, _) in chosen.items()}
    costs = {pref: float(c) for pref, (_, c) in chosen.items()}
    oracle = np.maximum(gains.max(axis=1), 0.0)
    floored = np.maximum(gains, GAIN_FLOOR_DB)

    # Final models on all rows.
    gain_forest = regressor().fit(x, np.maximum(gains, GAIN_FLOOR_DB))
    severity_forest = classifier().fit(x[damaged], severity[damaged])
    arrays = {**export_forest_arrays(gain_forest, "gain"),
              **export_forest_arrays(severity_forest, "severity", normalise_leaves=True)}
    classes = [str(c) for c in severity_forest.classes_]
    sev_true, sev_pred = severity[damaged], oof_severity[damaged].astype(str)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in csvs)).hexdigest()
    metadata = {
        "version": __version__,
        "kind": "RandomForestRegressor (gains) + RandomForestClassifier (severity)",
        "paths": paths, "severity_classes": classes, "margin_db": margins, "cost_db_per_s": costs,
        "gain_floor_db": GAIN_FLOOR_DB,
        "time_model": time_model, "time_model_units": "seconds = a + b x megapixels", "gpu_speedup": gpu_speedup,
        "hyperparameters": {"n_estimators": n_estimators, "min_samples_leaf": min_samples_leaf,
                            "max_features_regressor": 0.5, "max_features_classifier": "sqrt", "random_state": seed},
        "calibration": {"repeats": repeats,
                        "balanced_time_fraction": balanced_time_fraction, "speed_time_fraction": speed_time_fraction,
                        "margins_tried_db": list(MARGINS_DB), "costs_tried_db_per_s": list(COSTS_DB_PER_S),
                        "out_of_fold": {pref: grid[chosen[pref]] for pref in chosen},
                        # Every (margin, cost) tried: mean gain on damaged rows, worst severity's
                        # mean - standard error, time as a fraction of always-slowest.
                        "clean_floor_db": CLEAN_FLOOR_DB, "undamaged_changed_share": UNDAMAGED_CHANGED_SHARE,
                        "grid": [[m, c, round(e["mean_gain_db"], 4), round(e["worst_severity_gain_db"], 4),
                                  round(e["undamaged_changed_share"], 4),
                                  round(e["time_fraction_of_slowest"], 4)] for (m, c), e in grid.items()],
                        "oracle_mean_gain_db": float(oracle[damaged].mean())},
        "data": {"outcomes": [p.name for p in csvs], "outcomes_sha256": digest, "rows": len(rows),
                 "sources": len(set(groups)), "severities": {s: int((severity == s).sum()) for s in sorted(set(severity))},
                 "families": sorted(families)},
        "cross_validation": {
            "folds": n_folds, "grouped_by": "source image",
            # Against the floored gains the forest learns (the floor is part of the target).
            "gain_r2": {p: float(r2_score(floored[:, i], oof_gain[:, i])) for i, p in enumerate(paths)},
            "gain_mae_db": {p: float(np.abs(floored[:, i] - oof_gain[:, i]).mean()) for i, p in enumerate(paths)},
            "gain_mae_db_damaged": {p: float(np.abs(floored[damaged, i] - oof_gain[damaged, i]).mean())
                                    for i, p in enumerate(paths)},
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
