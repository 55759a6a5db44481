"""The learned decision's balanced (margin, cost) swept over the fitting grid, replayed on outcome
rows of several damage families: how much ``auto`` gains per family at each pair.

Inputs: outcome CSVs (``artrestore routing outcomes``) of rows no decision forest was fitted on: the
proxy family (``--family proxy``, any split: it is for choosing) and the training family's
validation split (``--split val``); check-family rows are refused. The bundled decision's forests,
clean guard and the check after the U-Net are kept; only ``balanced``'s margin and cost change
(``decision_fit.MARGINS_DB`` x ``COSTS_DB_PER_S``). Each pair is replayed by the routing report's own
code (``routing_report.family_report``, in-process profile). Output (JSON): per family and pair,
``auto``'s mean gain over the input (dB) per severity with its standard error, on all damaged rows,
on undamaged rows, its time as a fraction of always-U-Net's, and the oracle; plus ``chosen``: the
pair a rule picks (``--rule``; see ``choose``). Nothing is fitted here.

Run: ``python benchmarks/decision_margin_sweep.py --outcomes val_broad.csv proxy_train.csv --out FILE.json``
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from report import print_and_save  # noqa: E402

LEVELS = ("light", "moderate", "severe")
TIME_FRACTION = 0.5  # issue 16: auto at <= 50 % of always-U-Net's time


def _auto_gains(rows, choices) -> dict:
    """Per level: (mean gain dB, standard error) of the rows' chosen paths against their inputs."""
    from artrestore.training.routing_outcomes import NONE

    out = {}
    for level in (*LEVELS, "clean"):
        g = np.array([r[f"psnr_{c}"] - r[f"psnr_{NONE}"] for r, c in zip(rows, choices) if r["severity"] == level])
        if g.size:
            out[level] = (float(g.mean()), float(g.std(ddof=1) / np.sqrt(g.size)) if g.size > 1 else 0.0)
    return out


def sweep(outcome_csvs, margins=None, costs=None) -> dict:
    from artrestore.acceptance import load_acceptance
    from artrestore.decision import LearnedDecision
    from artrestore.training.decision_fit import COSTS_DB_PER_S, MARGINS_DB
    from artrestore.training.routing_outcomes import CHOOSING_FAMILIES, TRAINING_FAMILIES, read_outcomes
    from artrestore.training.routing_report import DL, check_unet, replay

    margins, costs = margins or MARGINS_DB, costs or COSTS_DB_PER_S
    acceptance = load_acceptance(None)
    families: dict = {}
    for csv_path in outcome_csvs:
        rows = read_outcomes(csv_path)
        for name in sorted({r["family"] for r in rows}):
            if name not in TRAINING_FAMILIES and name not in CHOOSING_FAMILIES:
                raise ValueError(f"{csv_path}: {name} rows are for the report, not for choosing")
            families.setdefault(name, []).extend(r for r in rows if r["family"] == name)
    decision = LearnedDecision.load()
    bundled = (decision.margins["balanced"], decision.costs["balanced"])
    result = {"outcomes": [str(p) for p in outcome_csvs], "bundled": list(bundled), "families": {}}
    for name, rows in families.items():
        damaged = [r for r in rows if r["severity"] != "clean"]
        dl_time = float(np.mean([r[f"ms_{DL}"] for r in damaged]))
        paths = ["none", *[p for p in decision.paths if f"psnr_{p}" in rows[0]]]
        oracle = float(np.mean([max(r[f"psnr_{p}"] for p in paths) - r["psnr_none"] for r in damaged]))
        grid = []
        for m in margins:
            for c in costs:
                variant = decision.with_rule("balanced", margin_db=m, cost_db_per_s=c)
                choices, _ = check_unet(rows, replay(rows, variant), acceptance)
                gains = _auto_gains(rows, choices)
                time = float(np.mean([r[f"ms_{c_}"] for r, c_ in zip(rows, choices) if r["severity"] != "clean"]))
                all_damaged = float(np.mean([r[f"psnr_{c_}"] - r["psnr_none"] for r, c_ in zip(rows, choices)
                                             if r["severity"] != "clean"]))
                grid.append({"margin_db": m, "cost_db_per_s": c, "levels": gains, "all_damaged": all_damaged,
                             "time_fraction": time / dl_time})
        result["families"][name] = {"rows": len(rows), "oracle_all_damaged": oracle, "grid": grid}
    return result


def choose(result: dict) -> dict:
    """The pair with the best lower-of-the-families gain on all damaged rows, among those that on
    every family keep each level's mean gain minus its standard error at or above 0 and take at
    most ``TIME_FRACTION`` of always-U-Net's time; None if no pair is feasible."""
    families = list(result["families"])
    n = len(result["families"][families[0]]["grid"])
    best, best_value = None, -np.inf
    for k in range(n):
        entries = [result["families"][f]["grid"][k] for f in families]
        feasible = all(all(e["levels"][lv][0] - e["levels"][lv][1] >= 0 for lv in LEVELS if lv in e["levels"])
                       and e["time_fraction"] <= TIME_FRACTION for e in entries)
        value = min(e["all_damaged"] for e in entries)
        if feasible and value > best_value + 1e-9:
            best, best_value = k, value
    if best is None:
        return {"pair": None}
    e = result["families"][families[0]]["grid"][best]
    return {"pair": [e["margin_db"], e["cost_db_per_s"]], "lower_all_damaged_db": best_value,
            "per_family": {f: result["families"][f]["grid"][best] for f in families}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", nargs="+", required=True)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    result = sweep(args.outcomes)
    result["chosen"] = choose(result)
    bundled = [e for e in next(iter(result["families"].values()))["grid"]
               if [e["margin_db"], e["cost_db_per_s"]] == result["bundled"]]
    result["bundled_found_in_grid"] = bool(bundled)
    print_and_save(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
