"""Fitting the check after the U-Net (``artrestore.acceptance``) from training outcomes.

In: outcome CSV(s) of the TRAINING damage family with the U-Net's change features (``c_<name>``,
``training.routing_outcomes``; check-family rows are refused). Out: an acceptance folder: a random
forest predicting the U-Net's PSNR gain over the fast path it would fall back to
(``acceptance.FALLBACK_PATH``), dB, from the 27 routing features and the 15 change features, and
the margin that gain must clear.

The margin is chosen on out-of-fold predictions (folds grouped by source image, ``REPEATS``
repeats with other folds and forest seeds, predictions averaged) over every row, as if the U-Net
had run on each: the margin of ``MARGINS_DB`` with the highest mean realised gain over the input,
the mean taken per level (light, moderate, severe, undamaged) and then over the levels, so each
level weighs the same whatever its count. Not only over the rows the bundled decision routes to
the U-Net: the decision was fitted on these sources, so on them it routes almost only where the
U-Net wins (on 2026-11-30's 1121 rows: 360 routed, the U-Net +3.1 / +3.1 / +3.4 dB there) and a
check calibrated there learns to keep everything, while what it is for is the damage the decision
misjudges. Those routed rows are reported too (``by_margin_routed``). ``math.inf`` (never keep the
U-Net) and ``-math.inf`` (always keep it: no check) are candidates; when one of them wins, no
check is written (ValueError saying which).

Command: ``python -m artrestore.training.acceptance_fit --outcomes CSV [CSV ...] --out FOLDER``.
"""
from __future__ import annotations

import argparse
import datetime
import logging
import math
import pathlib

import numpy as np

from artrestore import __version__
from artrestore.acceptance import CHANGE_FEATURE_NAMES, FALLBACK_PATH, save_acceptance
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import LearnedDecision
from artrestore.training.decision_rows import group_folds
from artrestore.training.routing_outcomes import CLEAN, DL_PATH, NONE, read_outcomes
from artrestore.training.routing_report import replay

log = logging.getLogger(__name__)

__all__ = ["fit_acceptance", "realised_by_level", "MARGINS_DB", "REPEATS"]

MARGINS_DB = (-math.inf, -1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, math.inf)
REPEATS = 4
N_FOLDS = 5
LEVELS = ("light", "moderate", "severe", CLEAN)
FOREST = {"n_estimators": 200, "min_samples_leaf": 3, "max_features": 0.5}


def _table(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(features: routing + change, target: U-Net PSNR minus the fallback's, dB)."""
    missing = [n for n in CHANGE_FEATURE_NAMES if f"c_{n}" not in rows[0]]
    if missing:
        raise ValueError(f"outcome rows lack the U-Net's change features (c_{missing[0]} ...): re-measure them")
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] + [r[f"c_{n}"] for n in CHANGE_FEATURE_NAMES]
                  for r in rows], np.float64)
    y = np.array([r[f"psnr_{DL_PATH}"] - r[f"psnr_{FALLBACK_PATH}"] for r in rows])
    return x, y


def realised_by_level(rows: list[dict], keep: np.ndarray) -> dict[str, float]:
    """Mean PSNR gain over the input per level when the U-Net's output is kept where ``keep``,
    the fallback's elsewhere."""
    gain = np.array([(r[f"psnr_{DL_PATH}"] if k else r[f"psnr_{FALLBACK_PATH}"]) - r[f"psnr_{NONE}"]
                     for r, k in zip(rows, keep)])
    levels = np.array([r["severity"] for r in rows])
    return {level: float(gain[levels == level].mean()) for level in LEVELS if (levels == level).any()}


def _forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(random_state=seed, n_jobs=1, **FOREST)  # as every fitter here: no loky pool left behind


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> np.ndarray:
    """Predictions of models that never saw the row's source, averaged over ``REPEATS``."""
    total = np.zeros(len(y))
    for repeat in range(REPEATS):
        for train, test in group_folds(groups, N_FOLDS, seed, repeat):
            total[test] += _forest(seed + repeat).fit(x[train], y[train]).predict(x[test])
    return total / REPEATS


def fit_acceptance(outcome_csvs, out_folder, *, seed: int = 0, decision_path=None) -> pathlib.Path:
    """Fit, choose the margin, write the folder; returns it."""
    rows = [r for path in outcome_csvs for r in read_outcomes(path)]
    families = {r["family"] for r in rows}
    if families != {"broad"}:
        raise ValueError(f"the check is fitted on the training family only, got families {sorted(families)}")
    x, y = _table(rows)
    groups = np.array([r["source"] for r in rows])
    routed = np.array(replay(rows, LearnedDecision.load(decision_path))) == DL_PATH
    if not routed.any():
        raise ValueError("the decision routes none of these rows to the U-Net: nothing to calibrate on")
    predicted = out_of_fold(x, y, groups, seed)

    def score(subset: np.ndarray) -> dict:
        sub = [r for r, k in zip(rows, subset) if k]
        out = {}
        for margin in MARGINS_DB:
            by_level = realised_by_level(sub, predicted[subset] > margin)
            out[repr(margin)] = {"by_level": by_level, "mean_over_levels": float(np.mean(list(by_level.values()))),
                                 "kept_share": float(np.mean(predicted[subset] > margin))}
        return out

    scores, scores_routed = score(np.ones(len(rows), bool)), score(routed)
    chosen = max(MARGINS_DB, key=lambda m: (scores[repr(m)]["mean_over_levels"], m))
    forest = _forest(seed).fit(x, y)
    names = [*ROUTING_FEATURE_NAMES, *CHANGE_FEATURE_NAMES]
    metadata = {
        "margin_db": chosen, "fallback_path": FALLBACK_PATH, "target": f"psnr_{DL_PATH} - psnr_{FALLBACK_PATH}",
        "hyperparameters": {**FOREST, "random_state": seed},
        "data": {"outcomes": [str(p) for p in outcome_csvs], "rows": len(rows), "sources": len(set(groups)),
                 "rows_routed_to_unet": int(routed.sum()),
                 "rows_by_level": {lv: sum(r["severity"] == lv for r in rows) for lv in LEVELS}},
        "calibration": {"folds": N_FOLDS, "repeats": REPEATS, "grouped_by": "source", "decision": "bundled, balanced",
                        "rule": "highest mean over levels of the realised gain on routed rows",
                        "out_of_fold_r": float(np.corrcoef(predicted, y)[0, 1]), "by_margin": scores,
                        "by_margin_routed": scores_routed},
        "feature_importance": dict(zip(names, map(float, np.round(forest.feature_importances_, 4)))),
        "artrestore_version": __version__, "date": datetime.date.today().isoformat(),
    }
    if not math.isfinite(chosen):
        raise ValueError(f"the best margin on these outcomes is {chosen}: the check "
                         f"{'would keep no U-Net output' if chosen > 0 else 'adds nothing'}; nothing written")
    log.info("acceptance: margin %s dB, out of fold %s", chosen, scores[repr(chosen)])
    return save_acceptance(out_folder, forest, metadata)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", nargs="+", required=True, help="outcome CSV(s) of the training family")
    parser.add_argument("--out", required=True, help="acceptance folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decision", default=None, help="decision folder (default: the bundled one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fit_acceptance(args.outcomes, args.out, seed=args.seed, decision_path=args.decision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
