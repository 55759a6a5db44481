"""Fitting the chain's router and choosing the classical path's fixed setting, from outcome data.

Input: an outcome file from ``chain_outcomes`` (training images x severities x the settings grid ->
output PSNR). Steps:

- ``choose_default``: the one grid setting with the best ``score`` (the router's: mean gain over
  the damaged severities, equal weight per severity, less twice the share of images left below
  the input) among those that never lose on average at any severity and keep ``clean_share`` of
  the clean images at >= 38 dB: the ``classical`` path's ``DEFAULT_CHAIN``. The identity scores 0,
  so a setting must gain more than it harms to be chosen.
- ``select_bank``: greedily, the ``n_settings`` settings whose best-of gain over the cases is
  largest (identity first);
- the cases are rebuilt (``chain_colour.regenerate``) for their features and the colour map a
  least-squares fit finds (the colour forest's targets);
- ``cross_validate`` (``chain_cv``): grouped by source image (a fixed fold per source for every data set), the
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

import numpy as np

from artrestore.chain.router import PARAM_NAMES, save_chain_router
from artrestore.router import export_forest
from artrestore.training.chain_cv import (
    CLEAN_PSNR,
    COLOUR_STRENGTHS,
    FOREST,
    colour_gains,
    cross_validate,
    fit_scaled,
    fold_of,
    gains_of,
    identity_index,
    make_forest,
    oof_anchors,
    score,
    setting_of,
    severity_table,
)

log = logging.getLogger(__name__)

# Share of the clean training images the classical setting must leave at >= 38 dB ("changes almost
# nothing", issue 23). 0.8 until 2026-12-06; 0.9 since the fading dead zones joined the grid: with
# them, the best-scoring setting at 0.9 also scores better on damage than the 0.8 choice did before.
CLEAN_SHARE = 0.9


def choose_default(outcomes: dict, clean_share: float = CLEAN_SHARE, also: tuple = ()) -> tuple[int, dict]:
    """(grid index, its severity table on ``outcomes``) of the classical setting (see the module
    docstring). ``also``: outcome sets of other damage families on the same grid (the proxy family,
    for choosing only): a setting must then lose at no severity on any family, and its score is the
    lowest of the families' scores (a choice that holds on damage it was not fitted to)."""
    families = [outcomes, *also]
    for other in also:
        if not np.array_equal(other["settings"], outcomes["settings"]):
            raise ValueError("every outcome set must share the settings grid")
    n_settings = outcomes["settings"].shape[0]
    ok = np.ones(n_settings, bool)
    scores = np.full((len(families), n_settings), -np.inf)
    for f, data in enumerate(families):
        gains = gains_of(data)
        sev = data["severity"]
        damaged = sorted(s for s in set(sev) if s != "none")
        per_sev = np.stack([gains[sev == s].mean(axis=0) for s in damaged])  # (n_sev, n_settings)
        ok &= (per_sev >= 0).all(axis=0)
        if (sev == "none").any():
            clean_out = data["psnr_in"][sev == "none"][:, None] + gains[sev == "none"]
            ok &= (clean_out >= CLEAN_PSNR).mean(axis=0) >= clean_share
        rows = sev != "none"
        damaged_only = {"severity": sev[rows], "psnr_in": data["psnr_in"][rows]}
        scores[f] = [score(severity_table(damaged_only, gains[rows, j])) for j in range(n_settings)]
    robust = np.where(ok, scores.min(axis=0), -np.inf)
    best = int(np.argmax(robust)) if np.isfinite(robust).any() else identity_index(outcomes)
    return best, severity_table(outcomes, gains_of(outcomes)[:, best])


def refuse_choosing_only(datasets) -> None:
    """Raise if any outcome or colour-case set was damaged by a family that is for choosing only
    (the proxy family, docs/damage.md): the router's forests are never fitted on it."""
    from artrestore.training.unet_broad_data import CHOOSING_FAMILY_NAMES

    bad = sorted({d["record"].get("damage") for d in datasets} & set(CHOOSING_FAMILY_NAMES))
    if bad:
        raise ValueError(f"the {', '.join(bad)} family is for choosing only: the chain router is never fitted on it")


def select_bank(gains: np.ndarray, n_settings: int, first: list[int]) -> list[int]:
    bank = list(dict.fromkeys(first))
    while len(bank) < min(n_settings, gains.shape[1]):
        current = gains[:, bank].max(axis=1)
        improvement = np.maximum(gains - current[:, None], 0).mean(axis=0)
        improvement[bank] = -1
        bank.append(int(np.argmax(improvement)))
    return bank


def fit_chain_router(outcome_path, colour_path, src, out_dir, *, n_settings: int = 16, clean_share: float = CLEAN_SHARE,
                     with_default: bool = False, folds: int = 5, seed: int = 0) -> tuple[pathlib.Path, dict]:
    """Regenerate the cases, choose the default and the bank, cross-validate the ml_guided pipeline,
    fit the three forests on everything and save; returns (model folder, report). ``colour_path``:
    one colour case file or several (e.g. one per training damage model), pooled."""
    from artrestore.training.chain_colour import inputs_and_targets, regenerate
    from artrestore.training.chain_outcomes import load_outcomes

    outcomes = load_outcomes(outcome_path)
    colour_sets = [load_outcomes(p) for p in ([colour_path] if isinstance(colour_path, (str, pathlib.Path))
                                              else colour_path)]
    refuse_choosing_only([outcomes, *colour_sets])
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
    first = [int(np.flatnonzero(free == identity_index(outcomes))[0])]
    bank = [int(free[i]) for i in select_bank(gains[:, free], n_settings - with_default, first)]
    fallback_index = default_index if with_default else identity_index(outcomes)
    if fallback_index not in bank:
        bank.insert(1, fallback_index)
    cv = cross_validate(outcomes, pairs, colour_data, colour_pairs, bank, default_index, fallback_index, folds, seed)
    best = max(cv["ml_guided"], key=lambda k: score(cv["ml_guided"][k]))
    margin = float(best.split()[1])
    # Final forests: settings on every outcome case; colour map on every colour case; colour
    # strength on every colour case, its gains from out-of-fold colour maps.
    scaler, forest = fit_scaled(outcomes["inputs"], gains[:, bank], seed)
    x_colour = scaler.transform(colour_data["inputs"])
    colour = make_forest(seed).fit(x_colour, colour_data["targets"])
    oof = oof_anchors(colour_data, fold_of(colour_data["source"], folds), set(), seed)
    strength = make_forest(seed).fit(x_colour, colour_gains(colour_pairs, oof))
    arrays = export_forest(forest, scaler)
    for prefix, model in (("colour_", colour), ("strength_", strength)):
        arrays.update({prefix + k: v for k, v in export_forest(model, scaler).items() if not k.startswith("scaler")})
    arrays["configs"] = outcomes["settings"][bank]
    arrays["colour_strengths"] = np.asarray(COLOUR_STRENGTHS, np.float64)
    report = {"default_setting": setting_of(outcomes, default_index).as_dict(), "default_train": default_table,
              "clean_share": clean_share, "with_default": with_default, "bank": [setting_of(outcomes, i).as_dict() for i in bank],
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
    parser.add_argument("--clean-share", type=float, default=CLEAN_SHARE)
    args = parser.parse_args(argv)
    folder, report = fit_chain_router(args.outcomes, args.colour, args.src, args.out, n_settings=args.settings,
                                      clean_share=args.clean_share, with_default=args.with_default)
    print(json.dumps({k: report[k] for k in ("default_setting", "default_train", "cross_validation", "chosen")},
                     indent=2))
    print(folder)


if __name__ == "__main__":
    main()
