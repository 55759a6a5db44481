"""Every path, the per-image oracle and decisions, replayed on outcome rows of a training family.

Inputs: an outcome CSV (``artrestore routing outcomes``; ``--split val`` measures the validation
sources, which no shipped model trained on) and decision folders (``bundled`` = the shipped one).
Each decision is replayed by the routing report's own code (``training.routing_report.family_report``:
the runtime rule ``LearnedDecision.choose`` on each row's recorded features, in-process profile).
Output (JSON): per path, oracle and decision x prefer, the mean gain over the input (dB) per
severity, over all damaged rows and on undamaged rows, and the mean seconds per damaged image;
per decision its severity accuracy. Measuring only: nothing is fitted, and check-family rows are
refused (training families and the proxy family, which is for choosing, are accepted).

Run: ``python benchmarks/decision_on_outcomes.py --outcomes outcomes_val.csv --decision bundled DIR
--out FILE.json``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from report import print_and_save  # noqa: E402

LEVELS = ("light", "moderate", "severe")


def summary(strategy: dict) -> dict:
    """One strategy of ``family_report``: gains (dB) per level, all damaged and undamaged; seconds."""
    from artrestore.training.routing_outcomes import CLEAN

    out = {level: round(strategy[level]["gain_db"], 3) for level in LEVELS + ("all_damaged",)}
    undamaged = strategy.get(CLEAN)
    return {**out, "undamaged": round(undamaged["gain_db"], 3) if undamaged else None,
            "seconds": round(strategy["all_damaged"]["seconds"], 4)}


def evaluate(outcomes, decisions) -> dict:
    from artrestore.decision import NONE, PREFERENCES, LearnedDecision
    from artrestore.training.routing_outcomes import CHOOSING_FAMILIES, TRAINING_FAMILIES, read_outcomes
    from artrestore.training.routing_report import family_report

    rows = read_outcomes(outcomes)
    allowed = sorted({*TRAINING_FAMILIES, *CHOOSING_FAMILIES})
    if any(r["family"] not in allowed for r in rows):
        raise ValueError(f"outcome rows of the families {allowed} only (the check family is for the report)")
    result = {"outcomes": str(outcomes), "rows": len(rows), "sources": len({r["source"] for r in rows}),
              "decisions": {}, "severity_accuracy": {}}
    for folder in decisions:
        report = family_report(rows, LearnedDecision.load(None if folder == "bundled" else folder), None, "local")
        strategies = report["strategies"]
        # Every path and the oracle are the same whichever decision replays them.
        result["paths"] = {name[len("always_"):]: summary(v) for name, v in strategies.items()
                           if name.startswith("always_") and name != f"always_{NONE}"}
        result["oracle"] = summary(strategies["oracle"])
        result["decisions"][folder] = {prefer: summary(strategies[f"auto_{prefer}"]) for prefer in PREFERENCES}
        result["severity_accuracy"][folder] = report["severity_accuracy"]
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
