"""Fitting the chain's router and choosing the classical path's fixed setting, from outcome data.

Input: an outcome file from ``chain_outcomes`` (training images x severities x the settings grid ->
output PSNR). Steps:

- ``choose_default``: the one grid setting with the best mean gain over the damaged severities
  (equal weight per severity) among those that never lose on average at any severity and keep
  ``clean_share`` of the clean images at >= 38 dB: the ``classical`` path's ``DEFAULT_CHAIN``.
- ``select_bank``: greedily, the ``n_settings`` settings whose best-of gain over the cases is largest
  (identity and the default first).
- ``cross_validate``: grouped by source image (no image in both folds), a random forest predicts
  each bank setting's gain from the image's features; the chosen setting's real gain per severity,
  beside the oracle (best in the bank), the default and doing nothing.
- ``fit_chain_router``: the forest on every case, saved as plain arrays (``chain.router``).

scikit-learn is needed here only (the ``train`` extra).
"""
from __future__ import annotations

import json
import logging
import pathlib

import numpy as np

from artrestore.chain.chain import ChainParams
from artrestore.chain.router import INPUT_NAMES, PARAM_NAMES, save_chain_router
from artrestore.router import export_forest

log = logging.getLogger(__name__)

CLEAN_PSNR = 38.0  # dB: "changes almost nothing"
FOREST = dict(n_estimators=48, min_samples_leaf=3, max_features=0.5)
MARGINS = (0.0, 0.1, 0.25, 0.5)  # dB the predicted gain must exceed, else the image is left alone


def gains_of(outcomes: dict) -> np.ndarray:
    return outcomes["psnr_out"] - outcomes["psnr_in"][:, None]


def _setting(outcomes: dict, index: int) -> ChainParams:
    return ChainParams(**dict(zip(PARAM_NAMES, map(float, outcomes["settings"][index]))))


def _identity_index(outcomes: dict) -> int:
    zero = [PARAM_NAMES.index(n) for n in ("line_sensitivity", "denoise_strength", "colour_strength", "sharpen_strength")]
    rows = np.flatnonzero((outcomes["settings"][:, zero] == 0).all(axis=1))
    if not rows.size:
        raise ValueError("the settings grid has no identity setting")
    return int(rows[0])


def severity_table(outcomes: dict, realized: np.ndarray) -> dict:
    """Per severity: mean gain (dB), share of cases below the input (gain < -0.05 dB); for the clean
    cases ('none'): mean output PSNR and the share at >= 38 dB."""
    table = {}
    for severity in sorted(set(outcomes["severity"])):
        rows = outcomes["severity"] == severity
        if severity == "none":
            out = outcomes["psnr_in"][rows] + realized[rows]
            table[severity] = {"mean_psnr": round(float(out.mean()), 2),
                               "share_at_38db": round(float((out >= CLEAN_PSNR).mean()), 3), "n": int(rows.sum())}
        else:
            table[severity] = {"mean_gain_db": round(float(realized[rows].mean()), 3),
                               "share_below_input": round(float((realized[rows] < -0.05).mean()), 3),
                               "n": int(rows.sum())}
    return table


def choose_default(outcomes: dict, clean_share: float = 0.9) -> tuple[int, dict]:
    """(grid index, its severity table) of the classical setting (see the module docstring)."""
    gains = gains_of(outcomes)
    sev = outcomes["severity"]
    damaged = sorted(s for s in set(sev) if s != "none")
    per_sev = np.stack([gains[sev == s].mean(axis=0) for s in damaged])  # (n_sev, n_settings)
    ok = (per_sev >= 0).all(axis=0)
    if (sev == "none").any():
        clean_out = outcomes["psnr_in"][sev == "none"][:, None] + gains[sev == "none"]
        ok &= (clean_out >= CLEAN_PSNR).mean(axis=0) >= clean_share
    score = np.where(ok, per_sev.mean(axis=0), -np.inf)
    best = int(np.argmax(score)) if np.isfinite(score).any() else _identity_index(outcomes)
    return best, severity_table(outcomes, gains[:, best])


def select_bank(gains: np.ndarray, n_settings: int, first: list[int]) -> list[int]:
    bank = list(dict.fromkeys(first))
    while len(bank) < min(n_settings, gains.shape[1]):
        current = gains[:, bank].max(axis=1)
        improvement = np.maximum(gains - current[:, None], 0).mean(axis=0)
        improvement[bank] = -1
        bank.append(int(np.argmax(improvement)))
    return bank


def _forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(random_state=seed, n_jobs=1, **FOREST)


def _fit(x: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scaler.scale_ = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return scaler, _forest(seed).fit(scaler.transform(x), y)


def _choose(predicted: np.ndarray, identity_col: int, margin: float) -> np.ndarray:
    best = predicted.argmax(axis=1)
    return np.where(predicted.max(axis=1) > margin, best, identity_col)


def cross_validate(outcomes: dict, bank: list[int], default_index: int, folds: int = 5, seed: int = 0) -> dict:
    """Out-of-fold realized gains of the forest's choice for each margin, grouped by source."""
    from sklearn.model_selection import GroupKFold

    gains = gains_of(outcomes)[:, bank]
    x = outcomes["inputs"]
    predicted = np.zeros_like(gains)
    for train, test in GroupKFold(folds).split(x, gains, outcomes["source"]):
        scaler, forest = _fit(x[train], gains[train], seed)
        predicted[test] = forest.predict(scaler.transform(x[test]))
    identity_col = bank.index(_identity_index(outcomes))
    rows = np.arange(len(gains))
    report = {"oracle": severity_table(outcomes, gains.max(axis=1)),
              "default": severity_table(outcomes, gains[:, bank.index(default_index)]), "margins": {}}
    for margin in MARGINS:
        chosen = _choose(predicted, identity_col, margin)
        report["margins"][str(margin)] = severity_table(outcomes, gains[rows, chosen])
    return report


def _margin_score(table: dict) -> float:
    """Mean gain over the damaged severities, minus a penalty for cases below the input."""
    damaged = [v for k, v in table.items() if k != "none"]
    return float(np.mean([v["mean_gain_db"] - 2.0 * v["share_below_input"] for v in damaged]))


def fit_chain_router(outcome_path, out_dir, *, n_settings: int = 24, seed: int = 0) -> tuple[pathlib.Path, dict]:
    """Choose the default and the bank, cross-validate, fit on everything and save; returns
    (model folder, report)."""
    from artrestore.training.chain_outcomes import load_outcomes

    outcomes = load_outcomes(outcome_path)
    gains = gains_of(outcomes)
    default_index, default_table = choose_default(outcomes)
    bank = select_bank(gains, n_settings, [_identity_index(outcomes), default_index])
    cv = cross_validate(outcomes, bank, default_index, seed=seed)
    margin = max(MARGINS, key=lambda m: _margin_score(cv["margins"][str(m)]))
    scaler, forest = _fit(outcomes["inputs"], gains[:, bank], seed)
    arrays = export_forest(forest, scaler)
    arrays["configs"] = outcomes["settings"][bank]
    report = {"default_setting": _setting(outcomes, default_index).as_dict(), "default_train": default_table,
              "bank": [_setting(outcomes, i).as_dict() for i in bank], "cross_validation": cv,
              "min_gain_db": margin, "forest": FOREST, "seed": seed, "outcomes": outcomes["record"]}
    folder = save_chain_router(out_dir, arrays, {"min_gain_db": margin, "training": report})
    return folder, report


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outcomes", required=True)
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--settings", type=int, default=24)
    args = parser.parse_args(argv)
    folder, report = fit_chain_router(args.outcomes, args.out, n_settings=args.settings)
    print(json.dumps({k: report[k] for k in ("default_setting", "default_train", "cross_validation", "min_gain_db")},
                     indent=2))
    print(folder)


if __name__ == "__main__":
    main()
