"""Fitting the chain's router and choosing the classical path's fixed setting, from outcome data.

Input: an outcome file from ``chain_outcomes`` (training images x severities x the settings grid ->
output PSNR). Steps:

- ``choose_default``: the one grid setting with the best mean gain over the damaged severities
  (equal weight per severity) among those that never lose on average at any severity and keep
  ``clean_share`` of the clean images at >= 38 dB: the ``classical`` path's ``DEFAULT_CHAIN``.
- ``select_bank``: greedily, the ``n_settings`` settings whose best-of gain over the cases is
  largest (identity first);
- the cases are rebuilt (``chain_colour.regenerate``) for their features and the colour map a
  least-squares fit finds (the colour forest's targets);
- ``cross_validate``: grouped by source image (a fixed fold per source for every data set), the
  setting, colour-map and colour-strength forests fitted without the held-out fold, the ml_guided
  pipeline (``choose``: the bank's best setting, or its best colour-free one plus the learned
  colour map) run on each held-out case per margin: real gains per severity, beside the grid's
  oracle and the default;
- ``fit_chain_router``: the margin chosen by cross-validation, the three forests on every case,
  saved as plain arrays (``chain.router``).

scikit-learn is needed here only (the ``train`` extra).
"""
from __future__ import annotations

import json
import logging
import pathlib
from dataclasses import replace

import numpy as np

from artrestore.chain.chain import ChainParams
from artrestore.chain.router import PARAM_NAMES, save_chain_router
from artrestore.router import export_forest

log = logging.getLogger(__name__)

CLEAN_PSNR = 38.0  # dB: "changes almost nothing"
FOREST = dict(n_estimators=48, min_samples_leaf=3, max_features=0.5)
MARGINS = (0.0, 0.25, 0.5)  # dB by which a choice must beat the fallback's predicted gain
COLOUR_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # of the learned colour map, chosen per image


def gains_of(outcomes: dict) -> np.ndarray:
    return outcomes["psnr_out"] - outcomes["psnr_in"][:, None]


def _setting(outcomes: dict, index: int) -> ChainParams:
    return ChainParams(**dict(zip(PARAM_NAMES, map(float, outcomes["settings"][index]))))


def _identity_index(outcomes: dict) -> int:
    stages = ("line_sensitivity", "denoise_strength", "colour_strength", "sharpen_strength")
    zero = [PARAM_NAMES.index(n) for n in stages]
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


def _fold_of(sources: np.ndarray, folds: int) -> np.ndarray:
    """A fixed fold per source image (stable hash of its name), shared by every data set."""
    import zlib

    return np.array([zlib.crc32(str(s).encode()) % folds for s in sources])


def _colour_gains(pairs, anchors: np.ndarray) -> np.ndarray:
    """PSNR gain (dB) of the learned colour map alone at each of COLOUR_STRENGTHS, per case."""
    import cv2

    from artrestore.chain.colour import affine_lut, apply_lut, unclipped_top
    from artrestore.chain.router import map_from_anchors
    from artrestore.training.chain_outcomes import PSNR_CAP

    out = np.zeros((len(pairs), len(COLOUR_STRENGTHS)))
    for i, ((damaged, clean), a) in enumerate(zip(pairs, anchors)):
        gains, offsets = map_from_anchors(a)
        top = unclipped_top(damaged)
        before = min(cv2.PSNR(damaged, clean), PSNR_CAP)
        for j, strength in enumerate(COLOUR_STRENGTHS):
            mapped = apply_lut(damaged, affine_lut(gains, offsets, top, strength)) if strength else damaged
            out[i, j] = min(cv2.PSNR(mapped, clean), PSNR_CAP) - before
    return out


def _oof_anchors(colour_data: dict, folds_of: np.ndarray, exclude: set, seed: int) -> np.ndarray:
    """Colour-forest anchors for the colour cases, each predicted by a forest that saw neither its
    fold nor the folds in ``exclude``."""
    x, y = colour_data["inputs"], colour_data["targets"]
    anchors = np.full_like(y, np.nan)
    for g in sorted(set(folds_of) - exclude):
        train = ~np.isin(folds_of, list(exclude | {g}))
        scaler, forest = _fit(x[train], y[train], seed)
        test = folds_of == g
        anchors[test] = forest.predict(scaler.transform(x[test]))
    return anchors


def _pipeline_psnr(damaged, clean, setting: ChainParams, colour_strength: float | None, anchors) -> float:
    """Output PSNR of the chain at ``setting``; with ``colour_strength`` given, its colour stage uses
    the learned map at that strength, otherwise the setting's own blind colour stage."""
    import cv2

    from artrestore.chain.chain import run_chain
    from artrestore.chain.router import map_from_anchors
    from artrestore.training.chain_outcomes import PSNR_CAP

    if colour_strength is None:
        out = run_chain(damaged, setting).image
    else:
        params = replace(setting, colour_strength=colour_strength)
        out = run_chain(damaged, params, colour_map=map_from_anchors(anchors)).image
    return float(min(cv2.PSNR(out, clean), PSNR_CAP))


def choose(predicted: np.ndarray, colour_gain: np.ndarray, colour_off: np.ndarray, identity_col: int,
           default_col: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Per case: (bank column, learned colour?). Candidates: the bank's best setting (blind colour)
    and its best colour-free setting plus the learned colour map; the one with the larger predicted
    gain is taken when it beats the classical default's predicted gain by more than ``margin`` dB,
    else the default (or the identity, where even the default is predicted to lose): the forest
    overrides the fixed setting only where it is confident. ``ChainRouter.predict`` applies it."""
    rows = np.arange(len(predicted))
    best = predicted.argmax(axis=1)
    free = np.where(colour_off[None, :], predicted, -np.inf)
    best_free = free.argmax(axis=1)
    learned_gain = free.max(axis=1).clip(min=0) + np.maximum(colour_gain, 0)
    blind_gain = predicted.max(axis=1)
    learned = learned_gain > blind_gain
    column = np.where(learned, best_free, best)
    gain = np.maximum(learned_gain, blind_gain)
    default_gain = predicted[rows, default_col]
    fallback = np.where(default_gain > 0, default_col, identity_col)
    confident = gain > np.maximum(default_gain, 0) + margin
    return np.where(confident, column, fallback), learned & confident


def cross_validate(outcomes: dict, pairs, colour_data: dict, colour_pairs, bank: list[int], default_index: int,
                   fallback_index: int, folds: int = 5, seed: int = 0) -> dict:
    """Grouped by source image (a fixed fold per source, shared by both data sets): for each fold,
    the setting forest, the colour-map forest and the colour-strength forest fitted without it (the
    strength forest's training gains come from colour maps predicted without it either), the whole
    ml_guided pipeline run on its outcome cases; per margin. Beside the default, the grid's oracle."""
    gains = gains_of(outcomes)
    fold = _fold_of(outcomes["source"], folds)
    colour_fold = _fold_of(colour_data["source"], folds)
    identity_col = bank.index(_identity_index(outcomes))
    colour_off = outcomes["settings"][bank, PARAM_NAMES.index("colour_strength")] == 0
    default_col = bank.index(fallback_index)
    predicted = np.zeros((len(gains), len(bank)))
    strength, colour_gain = np.zeros(len(gains)), np.zeros(len(gains))
    anchors = np.zeros((len(gains), 6))
    for f in range(folds):
        test, train = fold == f, fold != f
        scaler, forest = _fit(outcomes["inputs"][train], gains[train][:, bank], seed)
        predicted[test] = forest.predict(scaler.transform(outcomes["inputs"][test]))
        colour_train = colour_fold != f
        c_scaler, c_forest = _fit(colour_data["inputs"][colour_train], colour_data["targets"][colour_train], seed)
        anchors[test] = c_forest.predict(c_scaler.transform(outcomes["inputs"][test]))
        oof = _oof_anchors(colour_data, colour_fold, {f}, seed)
        strength_gains = _colour_gains([colour_pairs[i] for i in np.flatnonzero(colour_train)], oof[colour_train])
        s_scaler, s_forest = _fit(colour_data["inputs"][colour_train], strength_gains, seed)
        strength_pred = s_forest.predict(s_scaler.transform(outcomes["inputs"][test]))
        strength[test] = np.asarray(COLOUR_STRENGTHS)[strength_pred.argmax(axis=1)]
        colour_gain[test] = strength_pred.max(axis=1)
    report = {"oracle_grid": severity_table(outcomes, gains.max(axis=1)),
              "default": severity_table(outcomes, gains[:, default_index]), "ml_guided": {}}
    for m in MARGINS:
        column, learned = choose(predicted, colour_gain, colour_off, identity_col, default_col, m)
        psnr = np.array([_pipeline_psnr(d, c, _setting(outcomes, bank[k]), s if use else None, a)
                         for (d, c), k, use, s, a in zip(pairs, column, learned, strength, anchors)])
        report["ml_guided"][f"margin {m}"] = severity_table(outcomes, psnr - outcomes["psnr_in"])
        report.setdefault("learned_colour_share", {})[f"margin {m}"] = round(float(learned.mean()), 3)
    report["colour_strength_chosen"] = {sev: {str(s): int(((outcomes["severity"] == sev) & (strength == s)).sum())
                                              for s in COLOUR_STRENGTHS} for sev in sorted(set(outcomes["severity"]))}
    return report


def _score(table: dict) -> float:
    """Mean gain over the damaged severities, minus a penalty for cases below the input and for
    clean images pushed under 38 dB."""
    damaged = [v for k, v in table.items() if k != "none"]
    score = float(np.mean([v["mean_gain_db"] - 2.0 * v["share_below_input"] for v in damaged]))
    return score - 2.0 * (1.0 - table["none"]["share_at_38db"]) if "none" in table else score


def fit_chain_router(outcome_path, colour_path, src, out_dir, *, n_settings: int = 16, clean_share: float = 0.8,
                     with_default: bool = False, folds: int = 5, seed: int = 0) -> tuple[pathlib.Path, dict]:
    """Regenerate the cases, choose the default and the bank, cross-validate the ml_guided pipeline,
    fit the three forests on everything and save; returns (model folder, report). ``colour_path``:
    one colour case file or several (e.g. one per training damage model), pooled."""
    from artrestore.training.chain_colour import inputs_and_targets, regenerate
    from artrestore.training.chain_outcomes import load_outcomes

    outcomes = load_outcomes(outcome_path)
    colour_sets = [load_outcomes(p) for p in ([colour_path] if isinstance(colour_path, (str, pathlib.Path))
                                              else colour_path)]
    colour_pairs = [pair for data in colour_sets for pair in regenerate(data, src)]
    colour_data = {k: np.concatenate([d[k] for d in colour_sets]) for k in ("inputs", "targets", "source", "severity")}
    colour_data["record"] = [d["record"] for d in colour_sets]
    pairs = regenerate(outcomes, src)
    outcomes["inputs"], _ = inputs_and_targets(pairs)
    gains = gains_of(outcomes)
    default_index, default_table = choose_default(outcomes, clean_share)
    # The bank: the identity, then the colour-free settings that add most to the best-of gain (the
    # learned colour map joins them); with ``with_default``, also the classical default (blind
    # colour), which the router then falls back to where it is not confident.
    free = np.flatnonzero(outcomes["settings"][:, PARAM_NAMES.index("colour_strength")] == 0)
    first = [int(np.flatnonzero(free == _identity_index(outcomes))[0])]
    bank = [int(free[i]) for i in select_bank(gains[:, free], n_settings - with_default, first)]
    fallback_index = default_index if with_default else _identity_index(outcomes)
    if fallback_index not in bank:
        bank.insert(1, fallback_index)
    cv = cross_validate(outcomes, pairs, colour_data, colour_pairs, bank, default_index, fallback_index, folds, seed)
    best = max(cv["ml_guided"], key=lambda k: _score(cv["ml_guided"][k]))
    margin = float(best.split()[1])
    # Final forests: settings on every outcome case; colour map on every colour case; colour
    # strength on every colour case, its gains from out-of-fold colour maps.
    scaler, forest = _fit(outcomes["inputs"], gains[:, bank], seed)
    x_colour = scaler.transform(colour_data["inputs"])
    colour = _forest(seed).fit(x_colour, colour_data["targets"])
    oof = _oof_anchors(colour_data, _fold_of(colour_data["source"], folds), set(), seed)
    strength = _forest(seed).fit(x_colour, _colour_gains(colour_pairs, oof))
    arrays = export_forest(forest, scaler)
    for prefix, model in (("colour_", colour), ("strength_", strength)):
        arrays.update({prefix + k: v for k, v in export_forest(model, scaler).items() if not k.startswith("scaler")})
    arrays["configs"] = outcomes["settings"][bank]
    arrays["colour_strengths"] = np.asarray(COLOUR_STRENGTHS, np.float64)
    report = {"default_setting": _setting(outcomes, default_index).as_dict(), "default_train": default_table,
              "clean_share": clean_share, "with_default": with_default, "bank": [_setting(outcomes, i).as_dict() for i in bank],
              "cross_validation": cv, "chosen": best, "min_gain_db": margin, "forest": FOREST, "seed": seed,
              "outcomes": outcomes["record"], "colour_cases": colour_data["record"]}
    folder = save_chain_router(out_dir, arrays, {"min_gain_db": margin, "default_setting": bank.index(fallback_index),
                                                 "training": report})
    return folder, report


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outcomes", required=True)
    parser.add_argument("--colour", required=True, nargs="+", help="colour case files from chain_colour (one per damage model)")
    parser.add_argument("--src", required=True, help="the clean image folder the outcomes were made from")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--settings", type=int, default=16)
    parser.add_argument("--with-default", action="store_true",
                        help="put the classical default in the bank as the fallback (else the identity)")
    parser.add_argument("--clean-share", type=float, default=0.8)
    args = parser.parse_args(argv)
    folder, report = fit_chain_router(args.outcomes, args.colour, args.src, args.out, n_settings=args.settings,
                                      clean_share=args.clean_share, with_default=args.with_default)
    print(json.dumps({k: report[k] for k in ("default_setting", "default_train", "cross_validation", "chosen")},
                     indent=2))
    print(folder)


if __name__ == "__main__":
    main()
