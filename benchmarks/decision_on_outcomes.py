"""Every path, the per-image oracle and decisions, replayed on outcome rows of the training family.

Inputs: an outcome CSV (``artrestore routing outcomes``; ``--split val`` measures the validation
sources, which no shipped model trained on) and decision folders (``bundled`` = the shipped one).
Each decision chooses per row by its own rule (``decision_rows.route_table``: its gain forest, its
margins and costs per ``prefer``, its time models at the row's size) and gets the chosen path's
measured gain. Output (JSON): per path, oracle and decision x prefer, the mean gain over the input
(dB) per severity, over all damaged rows and on undamaged rows, and the mean seconds per damaged
image. Measuring only: nothing is fitted, and check-family rows are refused.

Run: ``python benchmarks/decision_on_outcomes.py --outcomes outcomes_val.csv --decision bundled DIR
--out FILE.json``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from report import print_and_save  # noqa: E402

LEVELS = ("light", "moderate", "severe")


def summary(severity: np.ndarray, gain: np.ndarray, seconds: np.ndarray) -> dict:
    from artrestore.training.routing_outcomes import CLEAN

    damaged = severity != CLEAN
    out = {level: round(float(np.mean(gain[severity == level])), 3) for level in LEVELS}
    return {**out, "all_damaged": round(float(np.mean(gain[damaged])), 3),
            "undamaged": round(float(np.mean(gain[~damaged])), 3) if (~damaged).any() else None,
            "seconds": round(float(np.mean(seconds[damaged])), 4)}


def evaluate(outcomes, decisions) -> dict:
    from artrestore.decision import NONE, PREFERENCES, LearnedDecision
    from artrestore.training.decision_rows import outcome_matrix, path_names, realised, route_table
    from artrestore.training.routing_outcomes import read_outcomes

    rows = read_outcomes(outcomes)
    if any(r["family"] != "broad" for r in rows):
        raise ValueError("outcome rows of the training family only (the check family is for the report)")
    paths = path_names(rows)
    x, gains, seconds = outcome_matrix(rows, paths)
    severity = np.array([r["severity"] for r in rows])
    none_s = np.array([r[f"ms_{NONE}"] / 1e3 for r in rows])
    result = {"outcomes": str(outcomes), "rows": len(rows), "sources": len({r["source"] for r in rows}),
              "paths": {p: summary(severity, gains[:, j], seconds[:, j]) for j, p in enumerate(paths)}}
    best = gains.argmax(1)
    result["oracle"] = summary(severity, np.maximum(gains.max(1), 0.0),
                               np.where(gains.max(1) > 0, seconds[np.arange(len(rows)), best], none_s))
    result["decisions"] = {}
    for folder in decisions:
        decision = LearnedDecision.load(None if folder == "bundled" else folder)
        if list(decision.paths) != paths:
            raise ValueError(f"{folder}: paths {decision.paths} differ from the outcomes' {paths}")
        predicted = decision.predict_gains(x)
        expected = np.array([[decision.expected_seconds(r["height"] * r["width"])[p] for p in paths] for r in rows])
        result["decisions"][folder] = {
            prefer: summary(severity, *realised(route_table(predicted, expected, decision.margins[prefer],
                                                             decision.costs[prefer]), gains, seconds, none_s))
            for prefer in PREFERENCES}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", required=True)
    parser.add_argument("--decision", nargs="+", default=["bundled"])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    print_and_save(evaluate(args.outcomes, args.decision), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
