"""Cross-validation of the chain's ml_guided pipeline, and the helpers the fitting shares with it.

Grouped by source image (a fixed fold per source, from a stable hash of its name, for every data
set): for each fold, the setting forest, the colour-map forest and the colour-strength forest are
fitted without it (the strength forest's training gains come from colour maps also predicted
without it), and the whole ml_guided pipeline (``choose``) runs on the fold's outcome cases. Gains
are PSNR dB over the untouched input; ``severity_table`` summarises them per severity.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from artrestore.chain.chain import ChainParams
from artrestore.chain.router import PARAM_NAMES

CLEAN_PSNR = 38.0  # dB: "changes almost nothing"
FOREST = dict(n_estimators=48, min_samples_leaf=3, max_features=0.5)
MARGINS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)  # dB by which a choice must beat the fallback's predicted gain
# Do no harm: a path that loses on average at some severity of the training images will lose more
# on damage it was not fitted to, so ``score`` charges a mean loss at any severity HARM_PENALTY
# times over.
HARM_PENALTY = 4.0
COLOUR_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # of the learned colour map, chosen per image


def gains_of(outcomes: dict) -> np.ndarray:
    return outcomes["psnr_out"] - outcomes["psnr_in"][:, None]


def setting_of(outcomes: dict, index: int) -> ChainParams:
    return ChainParams(**dict(zip(PARAM_NAMES, map(float, outcomes["settings"][index]))))


def identity_index(outcomes: dict) -> int:
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


def make_forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(random_state=seed, n_jobs=1, **FOREST)


def fit_scaled(x: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scaler.scale_ = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return scaler, make_forest(seed).fit(scaler.transform(x), y)


def fold_of(sources: np.ndarray, folds: int) -> np.ndarray:
    """A fixed fold per source image (stable hash of its name), shared by every data set."""
    import zlib

    return np.array([zlib.crc32(str(s).encode()) % folds for s in sources])


def colour_gains(pairs, anchors: np.ndarray) -> np.ndarray:
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


def oof_anchors(colour_data: dict, folds_of: np.ndarray, exclude: set, seed: int) -> np.ndarray:
    """Colour-forest anchors for the colour cases, each predicted by a forest that saw neither its
    fold nor the folds in ``exclude``."""
    x, y = colour_data["inputs"], colour_data["targets"]
    anchors = np.full_like(y, np.nan)
    for g in sorted(set(folds_of) - exclude):
        train = ~np.isin(folds_of, list(exclude | {g}))
        scaler, forest = fit_scaled(x[train], y[train], seed)
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
    fold = fold_of(outcomes["source"], folds)
    colour_fold = fold_of(colour_data["source"], folds)
    identity_col = bank.index(identity_index(outcomes))
    colour_off = outcomes["settings"][bank, PARAM_NAMES.index("colour_strength")] == 0
    default_col = bank.index(fallback_index)
    predicted = np.zeros((len(gains), len(bank)))
    strength, colour_gain = np.zeros(len(gains)), np.zeros(len(gains))
    anchors = np.zeros((len(gains), 6))
    for f in range(folds):
        test, train = fold == f, fold != f
        scaler, forest = fit_scaled(outcomes["inputs"][train], gains[train][:, bank], seed)
        predicted[test] = forest.predict(scaler.transform(outcomes["inputs"][test]))
        colour_train = colour_fold != f
        c_scaler, c_forest = fit_scaled(colour_data["inputs"][colour_train], colour_data["targets"][colour_train], seed)
        anchors[test] = c_forest.predict(c_scaler.transform(outcomes["inputs"][test]))
        oof = oof_anchors(colour_data, colour_fold, {f}, seed)
        strength_gains = colour_gains([colour_pairs[i] for i in np.flatnonzero(colour_train)], oof[colour_train])
        s_scaler, s_forest = fit_scaled(colour_data["inputs"][colour_train], strength_gains, seed)
        strength_pred = s_forest.predict(s_scaler.transform(outcomes["inputs"][test]))
        strength[test] = np.asarray(COLOUR_STRENGTHS)[strength_pred.argmax(axis=1)]
        colour_gain[test] = strength_pred.max(axis=1)
    report = {"oracle_grid": severity_table(outcomes, gains.max(axis=1)),
              "default": severity_table(outcomes, gains[:, default_index]), "ml_guided": {}}
    for m in MARGINS:
        column, learned = choose(predicted, colour_gain, colour_off, identity_col, default_col, m)
        psnr = np.array([_pipeline_psnr(d, c, setting_of(outcomes, bank[k]), s if use else None, a)
                         for (d, c), k, use, s, a in zip(pairs, column, learned, strength, anchors)])
        report["ml_guided"][f"margin {m}"] = severity_table(outcomes, psnr - outcomes["psnr_in"])
        report.setdefault("learned_colour_share", {})[f"margin {m}"] = round(float(learned.mean()), 3)
    report["colour_strength_chosen"] = {sev: {str(s): int(((outcomes["severity"] == sev) & (strength == s)).sum())
                                              for s in COLOUR_STRENGTHS} for sev in sorted(set(outcomes["severity"]))}
    return report


def score(table: dict) -> float:
    """Mean gain over the damaged severities, minus a penalty for cases below the input, for a
    mean loss at any severity (``HARM_PENALTY``) and for clean images pushed under 38 dB."""
    damaged = [v for k, v in table.items() if k != "none"]
    score = float(np.mean([v["mean_gain_db"] - 2.0 * v["share_below_input"]
                           - HARM_PENALTY * max(0.0, -v["mean_gain_db"]) for v in damaged]))
    return score - 2.0 * (1.0 - table["none"]["share_at_38db"]) if "none" in table else score


