"""Fitting the learned decision from outcome data (training only; scikit-learn needed here only).

In: one or more outcome CSVs of the TRAINING damage families (``training.routing_outcomes``: broad,
optionally with the legacy synthesizer's rows; rows of the check family are refused). Out: a
decision folder (``artrestore.decision``): a multi-output random forest predicting each path's PSNR
gain over the input (dB) from the 27 routing features, a random-forest classifier of the damage
model's severity, per-path time models, and the choice rule's constants, all chosen on out-of-fold
predictions (folds grouped by source image, so no image is scored by a model that saw it; the cross-
validation is repeated ``REPEATS`` times with other folds and forest seeds, and every measure below
is the mean over the repeats):

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
- Time model per path: seconds = b x megapixels, b the median over the outcome rows (and the
  largest row's megapixels as ``cost_reference_mp``: a larger image's time is charged at that size); the
  ``accelerated`` profile divides the U-Net's by ``gpu_speedup`` (a GPU-served U-Net, as the
  router's calibration assumes).
- Per U-Net view count (``view_outcomes``; ``training.decision_views.add_views`` adds them to a shipped decision without
  touching its forests): the same rows with the U-Net's columns measured with that many views get
  their own gain forest, time models and (margin, cost) per preference, by the rule above on the
  ``accelerated`` profile's times (docs/routing.md).

The command is ``artrestore routing decision`` (``--view-outcomes``, ``--onto``).
"""
from __future__ import annotations

import hashlib
import logging
import pathlib
import shutil

import numpy as np

from artrestore import __version__
from artrestore.decision import COST_REFERENCE_KEY, NONE, LearnedDecision, export_forest_arrays, save_decision, view_forest
from artrestore.training.decision_rows import group_folds, outcome_matrix, path_names, realised, route_table
from artrestore.training.routing_outcomes import CLEAN, TRAINING_FAMILIES, read_outcomes, same_rows
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


def fit_decision(outcome_csvs, out_folder, *, seed: int = 0, n_estimators: int = 200, min_samples_leaf: int = 3,
                 folds: int = 5, balanced_time_fraction: float = 0.45, speed_time_fraction: float = 0.1,
                 gpu_speedup: float = 60.0, copy_outcomes: bool = True, repeats: int = REPEATS,
                 view_outcomes: dict | None = None, one_view_rule: dict | None = None) -> pathlib.Path:
    """Fit, cross-validate, calibrate and save the decision; returns the folder.

    ``view_outcomes``: {views: CSV} of the same training rows with the U-Net's columns measured
    averaging ``views`` views (``dl.ensemble``; ``artrestore routing outcomes --views``). Each gets
    its own gain forest, time models and margins and costs, calibrated by the same rule on the
    ``accelerated`` profile's times (where that U-Net runs by default, ``DEFAULT_VIEWS``), and is
    recorded beside what the one-view rule (``one_view_rule``: {"margin_db", "cost_db_per_s"} per
    preference; None: the one fitted here) would realise with that U-Net, out of fold."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import confusion_matrix, r2_score

    csvs = [pathlib.Path(p) for p in ([outcome_csvs] if isinstance(outcome_csvs, (str, pathlib.Path))
                                      else outcome_csvs)]
    rows = [r for p in csvs for r in read_outcomes(p)]
    families = {r["family"] for r in rows}
    if "broad" not in families or not families <= set(TRAINING_FAMILIES):
        raise ValueError(f"the decision is fitted on the training families {sorted(TRAINING_FAMILIES)} "
                         f"(broad among them); got {sorted(families)}")
    paths = path_names(rows)
    if DL not in paths:
        log.warning("no %s path in the outcomes; the time calibration uses the slowest path instead", DL)
    x, gains, seconds = outcome_matrix(rows, paths)
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
    oof_severity = np.empty(len(rows), dtype=object)

    def out_of_fold(gains):
        predictions = []
        for repeat in range(repeats):
            oof_gain = np.zeros_like(gains)
            for train, test in group_folds(groups, n_folds, seed, repeat):
                oof_gain[test] = regressor(seed + repeat).fit(x[train], np.maximum(gains[train], GAIN_FLOOR_DB)).predict(x[test])
            predictions.append(oof_gain)
        return predictions

    for train, test in group_folds(groups, n_folds, seed, 0):
        sev_train = train[damaged[train]]
        oof_severity[test] = classifier().fit(x[sev_train], severity[sev_train]).predict(x[test])

    def time_models(seconds):
        """Seconds per megapixel, median over rows, per profile (the GPU divides the U-Net's)."""
        per_mp = {p: float(np.median(seconds[:, i] / mp)) for i, p in enumerate(paths)}
        return {"local": {p: [0.0, per_mp[p]] for p in paths},
                "accelerated": {p: [0.0, per_mp[p] / (gpu_speedup if p == DL else 1.0)] for p in paths}}

    slowest = paths.index(DL) if DL in paths else int(np.argmax(np.median(seconds / mp[:, None], axis=0)))
    groups_for_harm = [severity == s for s in sorted(set(severity)) if s != CLEAN]
    undamaged = ~damaged
    input_psnr = np.array([r[f"psnr_{NONE}"] for r in rows])

    def calibrate(gains, seconds, model, oof_gains):
        """(chosen (margin, cost) per preference, the whole grid) for gains realised in ``seconds``
        and expected by the time ``model`` ({path: [a, b]})."""
        expected = np.stack([model[p][1] * mp for p in paths], axis=1)
        always_slowest_s = float(seconds[:, slowest].mean())

        def evaluate_one(predicted, margin, cost):
            choice = route_table(predicted, expected, margin, cost)
            gain, time = realised(choice, gains, seconds, none_s)
            # Mean minus its standard error: harmless with a margin for the optimism of the selection.
            worst = min(float(gain[g].mean() - gain[g].std() / np.sqrt(max(1, g.sum() - 1))) for g in groups_for_harm)
            # Undamaged rows: the share visibly changed (output under CLEAN_FLOOR_DB to the input).
            # (Left alone, an image is unchanged whatever its table's input PSNR.)
            moved = (choice >= 0) & (input_psnr + gain < CLEAN_FLOOR_DB)
            changed = float(moved[undamaged].mean()) if undamaged.any() else 0.0
            return {"mean_gain_db": float(gain[damaged].mean()), "worst_severity_gain_db": worst,
                    "undamaged_changed_share": changed,
                    "time_fraction_of_slowest": float(time.mean() / always_slowest_s)}

        def evaluate(margin, cost, predictions=oof_gains):
            """Each measure averaged over the repeats of the cross-validation."""
            each = [evaluate_one(predicted, margin, cost) for predicted in predictions]
            return {key: float(np.mean([e[key] for e in each])) for key in each[0]}

        grid = {(m, c): evaluate(m, c) for m in MARGINS_DB for c in COSTS_DB_PER_S}

        def pick(fraction, costs=COSTS_DB_PER_S):
            feasible = [(key, e) for key, e in grid.items() if key[1] in costs
                        and e["worst_severity_gain_db"] >= 0 and e["undamaged_changed_share"] <= UNDAMAGED_CHANGED_SHARE
                        and e["time_fraction_of_slowest"] <= fraction]
            if not feasible:  # nothing is safe: take no path at all
                return MARGINS_DB[-1], COSTS_DB_PER_S[-1]
            return max(feasible, key=lambda ke: (round(ke[1]["mean_gain_db"], 6), ke[0][0]))[0]

        return ({"quality": pick(np.inf, costs=(0.0,)), "balanced": pick(balanced_time_fraction),
                 "speed": pick(speed_time_fraction)}, grid, evaluate)

    def calibration_record(chosen, grid) -> dict:
        return {"out_of_fold": {pref: grid[chosen[pref]] for pref in chosen},
                # Every (margin, cost) tried: mean gain on damaged rows, worst severity's mean -
                # standard error, share of undamaged rows changed, time as a fraction of always-slowest.
                "grid": [[m, c, round(e["mean_gain_db"], 4), round(e["worst_severity_gain_db"], 4),
                          round(e["undamaged_changed_share"], 4),
                          round(e["time_fraction_of_slowest"], 4)] for (m, c), e in grid.items()]}

    oof_gains = out_of_fold(gains)
    oof_gain = oof_gains[0]
    time_model = time_models(seconds)
    chosen, grid, _ = calibrate(gains, seconds, time_model["local"], oof_gains)
    margins = {pref: float(m) for pref, (m, _) in chosen.items()}
    costs = {pref: float(c) for pref, (_, c) in chosen.items()}
    oracle = np.maximum(gains.max(axis=1), 0.0)

    # Per U-Net view count: the same rows with that U-Net's outcomes, calibrated on the GPU profile.
    by_views, view_arrays, view_csvs, view_forests = {}, {}, [], {}
    for views, csv_path in sorted((view_outcomes or {}).items()):
        views, csv_path = int(views), pathlib.Path(csv_path)
        if views == 1:
            raise ValueError("view_outcomes: the one-view outcomes are the main outcome CSVs")
        view_rows = same_rows(rows, csv_path)
        _, v_gains, v_seconds = outcome_matrix(view_rows, paths)
        v_model = time_models(v_seconds)
        v_oof = out_of_fold(v_gains)
        accelerated_seconds = v_seconds / np.array([gpu_speedup if p == DL else 1.0 for p in paths])
        v_chosen, v_grid, v_evaluate = calibrate(v_gains, accelerated_seconds, v_model["accelerated"], v_oof)
        # What the one-view decision (its forest, margins and costs) would realise with this U-Net,
        # and the one-view margins and costs with this U-Net's own forest. The calibration's time
        # limits are fractions of always-U-Net's time; with a U-Net that costs milliseconds they can
        # force a preference off the U-Net where it gains most, so per preference the one-view
        # (margin, cost) is kept when it is safe by the same criteria and gains more, out of fold.
        rule = one_view_rule or {"margin_db": margins, "cost_db_per_s": costs}
        one_view_pairs = {pref: (rule["margin_db"][pref], rule["cost_db_per_s"][pref]) for pref in chosen}
        one_view_baseline = {pref: v_evaluate(*one_view_pairs[pref], oof_gains) for pref in chosen}
        one_view_rule_kept = {pref: v_evaluate(*one_view_pairs[pref], v_oof) for pref in chosen}
        rule_from = {}
        for pref, kept in one_view_rule_kept.items():
            safe = kept["worst_severity_gain_db"] >= 0 and kept["undamaged_changed_share"] <= UNDAMAGED_CHANGED_SHARE
            better = kept["mean_gain_db"] > v_grid[v_chosen[pref]]["mean_gain_db"]
            rule_from[pref] = "one_view" if safe and better else "calibrated"
        final = {pref: one_view_pairs[pref] if rule_from[pref] == "one_view" else v_chosen[pref] for pref in chosen}
        forest = regressor().fit(x, np.maximum(v_gains, GAIN_FLOOR_DB))
        view_arrays.update(export_forest_arrays(forest, view_forest(views)))
        view_forests[views] = forest
        v_floored = np.maximum(v_gains, GAIN_FLOOR_DB)
        by_views[str(views)] = {
            "margin_db": {pref: float(m) for pref, (m, _) in final.items()},
            "cost_db_per_s": {pref: float(c) for pref, (_, c) in final.items()}, "rule_from": rule_from,
            "time_model": v_model, "outcomes": csv_path.name,
            "outcomes_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest(),
            "calibrated_on_profile": "accelerated",
            "calibration": {**calibration_record(v_chosen, v_grid), "one_view_decision_out_of_fold": one_view_baseline,
                            "one_view_rule_out_of_fold": one_view_rule_kept,
                            "oracle_mean_gain_db": float(np.maximum(v_gains.max(axis=1), 0.0)[damaged].mean())},
            "gain_r2": {p: float(r2_score(v_floored[:, i], v_oof[0][:, i])) for i, p in enumerate(paths)}}
        view_csvs.append(csv_path)
    floored = np.maximum(gains, GAIN_FLOOR_DB)

    # Final models on all rows.
    gain_forest = regressor().fit(x, np.maximum(gains, GAIN_FLOOR_DB))
    severity_forest = classifier().fit(x[damaged], severity[damaged])
    arrays = {**export_forest_arrays(gain_forest, "gain"),
              **export_forest_arrays(severity_forest, "severity", normalise_leaves=True), **view_arrays}
    classes = [str(c) for c in severity_forest.classes_]
    sev_true, sev_pred = severity[damaged], oof_severity[damaged].astype(str)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in csvs)).hexdigest()
    metadata = {
        "version": __version__,
        "kind": "RandomForestRegressor (gains) + RandomForestClassifier (severity)",
        "paths": paths, "severity_classes": classes, "margin_db": margins, "cost_db_per_s": costs,
        "gain_floor_db": GAIN_FLOOR_DB,
        "time_model": time_model, "time_model_units": "seconds = a + b x megapixels", "gpu_speedup": gpu_speedup,
        COST_REFERENCE_KEY: float(mp.max()),  # the costs were calibrated on images up to this size
        "hyperparameters": {"n_estimators": n_estimators, "min_samples_leaf": min_samples_leaf,
                            "max_features_regressor": 0.5, "max_features_classifier": "sqrt", "random_state": seed},
        "calibration": {"repeats": repeats,
                        "balanced_time_fraction": balanced_time_fraction, "speed_time_fraction": speed_time_fraction,
                        "margins_tried_db": list(MARGINS_DB), "costs_tried_db_per_s": list(COSTS_DB_PER_S),
                        "clean_floor_db": CLEAN_FLOOR_DB, "undamaged_changed_share": UNDAMAGED_CHANGED_SHARE,
                        **calibration_record(chosen, grid),
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
    if by_views:
        metadata["views"] = by_views
    folder = save_decision(out_folder, arrays, metadata)
    if copy_outcomes:
        for p in [*csvs, *view_csvs]:
            if p.resolve() != (folder / p.name).resolve():
                shutil.copyfile(p, folder / p.name)
    # The exported arrays must reproduce scikit-learn.
    loaded = LearnedDecision.load(folder)
    np.testing.assert_allclose(loaded.predict_gains(x), gain_forest.predict(x), rtol=1e-9, atol=1e-9)
    for views, forest in view_forests.items():
        np.testing.assert_allclose(loaded.predict_gains(x, views), forest.predict(x), rtol=1e-9, atol=1e-9)
    return folder

