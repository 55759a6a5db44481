"""Whether a U-Net candidate may go to its one look: the rule of docs/unet_training.md, applied by a tool.

In: the JSON of ``benchmarks/unet_candidate_gains.py`` (paired gains over the shipped U-Net, each
with its hold, and their standard errors over sources, per family and damaged level; held-out
collection crops under ``pack*`` names). Out (stdout, and JSON with ``--out``): each criterion with
its figure and verdict, and ``passed``. Exit status 0 when every criterion holds, 3 when one fails
(2 stays argparse's usage error), so ``scripts/evaluate_unet_candidate.sh`` can stop before the
eight-view hold.

The rule (written 2026-12-06 late night, proxy criterion added 2026-12-07 before the jitter runs):
(a) no damaged level of the broad or legacy validation is below the reference by more than one
standard error; (b) the proxy family's damaged mean is at or above the reference's (a generator
neither network was fitted to: the evidence that a change transfers); (c) the mean of all damaged
paired gains of broad, legacy and proxy is positive; (d) no held-out collection's damaged mean is
below the reference's by more than one standard error (of that mean).

    python benchmarks/unet_candidate_rule.py --gains OUT/gains_vs_run10.json
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys

LEVELS = ("light", "moderate", "severe")
IN_FAMILY = ("broad", "legacy")
PROXY = "proxy"
HELD_OUT_PREFIX = "pack"  # held-out collection crops: pack3_val_extra, pack4_val_extra, ...
FAILED = 3


def _mean_and_se(levels: dict) -> tuple[float, float]:
    """The mean of the three levels' gains and its standard error (levels' errors independent)."""
    gains = [levels[lv]["gain_db"] for lv in LEVELS]
    return sum(gains) / 3, math.sqrt(sum(levels[lv]["se_db"] ** 2 for lv in LEVELS)) / 3


def judge(gains: dict) -> dict:
    """Each criterion of the rule on ``unet_candidate_gains`` output: {name: {figure, passed}}, passed."""
    missing = [name for name in (*IN_FAMILY, PROXY) if name not in gains]
    if missing:
        raise ValueError(f"gains lack {missing}: the rule needs broad, legacy and proxy")
    worst = min(((gains[f][lv]["gain_db"] + gains[f][lv]["se_db"], f, lv) for f in IN_FAMILY for lv in LEVELS))
    proxy_mean = _mean_and_se(gains[PROXY])[0]
    overall = sum(gains[f][lv]["gain_db"] for f in (*IN_FAMILY, PROXY) for lv in LEVELS) / (3 * len(LEVELS))
    criteria = {
        "a_in_family_levels": {"figure": f"worst gain + SE {worst[0]:+.3f} dB ({worst[1]} {worst[2]})",
                               "passed": worst[0] >= 0},
        "b_proxy_mean": {"figure": f"{proxy_mean:+.3f} dB", "passed": proxy_mean >= 0},
        "c_mean_of_nine": {"figure": f"{overall:+.3f} dB", "passed": overall > 0},
    }
    for name in sorted(n for n in gains if n.startswith(HELD_OUT_PREFIX)):
        mean, se = _mean_and_se(gains[name])
        criteria[f"d_{name}"] = {"figure": f"{mean:+.3f} ± {se:.3f} dB", "passed": mean + se >= 0}
    return {"criteria": criteria, "passed": all(c["passed"] for c in criteria.values())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gains", type=pathlib.Path, required=True, help="benchmarks/unet_candidate_gains.py --out JSON")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args(argv)
    verdict = judge(json.loads(args.gains.read_text()))
    for name, criterion in verdict["criteria"].items():
        print(f"{name}: {criterion['figure']} -> {'pass' if criterion['passed'] else 'FAIL'}")
    print("candidate: may go to its one look" if verdict["passed"] else "not a candidate: the rule fails")
    if args.out:
        args.out.write_text(json.dumps(verdict, indent=2) + "\n")
    return 0 if verdict["passed"] else FAILED


if __name__ == "__main__":
    sys.exit(main())
