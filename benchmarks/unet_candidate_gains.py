"""A U-Net candidate against a reference on the same damaged validation images, with the noise.

In: two ``family_hold_{broad,legacy}.json`` pairs (and ``family_hold_proxy.json`` where both have it)
written by ``benchmarks/unet_family_hold.py``
(``scripts/evaluate_unet_candidate.sh`` writes the candidate's; run 10's are in
``benchmarks/results/unet_runs/not_shipped_two_families/``), on the same draws. Out (stdout, and
JSON with ``--out``): per family and damaged level, the mean paired difference in PSNR with the
holds (candidate minus reference, dB) and its standard error over source images (the four damaged
versions of a source are not independent, so the per-source means are the samples). The images
must be the same ones (same sources, levels and input PSNR): a mismatch is an error, never a
silent comparison of different draws. ``--extra-report``: the same for held-out collection crops
(``benchmarks/unet_on_extra_val.py`` with ``--unet bundled --unet CANDIDATE``; each crop is its
own source there).

    python benchmarks/unet_candidate_gains.py --candidate .devdata/eval/soup67 \\
        --reference benchmarks/results/unet_runs/not_shipped_two_families --reference-suffix _run10
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

FAMILIES = ("broad", "legacy")
OPTIONAL_FAMILIES = ("proxy",)  # compared when both folders hold its file (references before 2026-12-07 night do not)
LEVELS = ("light", "moderate", "severe")


def _source_order(rows: list[dict]) -> list[int]:
    """Each row's source as the rank of its first appearance (reports name a source by its path
    or by its index: the same images either way when the ranks and input PSNRs agree)."""
    ranks: dict = {}
    return [ranks.setdefault(r["source"], len(ranks)) for r in rows]


def paired_gains(candidate_rows: list[dict], reference_rows: list[dict], level: str) -> dict:
    """Mean held-PSNR difference on ``level`` and its standard error over sources (dB)."""
    cand = [r for r in candidate_rows if r["level"] == level]
    ref = [r for r in reference_rows if r["level"] == level]
    if not cand:
        raise ValueError(f"{level}: no rows")
    if len(cand) != len(ref) or _source_order(cand) != _source_order(ref) or any(
            abs(c["input_psnr"] - r["input_psnr"]) > 1e-6 for c, r in zip(cand, ref)):
        raise ValueError(f"{level}: the two reports hold different images (other draws or sources)")
    by_source: dict = {}
    for c, r in zip(cand, ref):
        by_source.setdefault(c["source"], []).append(c["held_psnr"] - r["held_psnr"])
    means = np.array([np.mean(v) for v in by_source.values()])
    se = float(means.std(ddof=1) / np.sqrt(len(means))) if len(means) > 1 else float("nan")
    diffs = [d for v in by_source.values() for d in v]
    return {"gain_db": float(np.mean(diffs)), "se_db": se, "images": len(diffs), "sources": len(means)}


def _extra_rows(path: pathlib.Path) -> tuple[list[dict], list[dict]]:
    """(reference rows, candidate rows) of a held-out-crops report: 'bundled' and the one other entry."""
    report = json.loads(path.read_text())
    others = [name for name in report if name != "bundled"]
    if "bundled" not in report or len(others) != 1 or any("rows" not in report[n] for n in report):
        raise ValueError(f"{path}: expected 'bundled' and one candidate, each with per-crop rows")
    return report["bundled"]["rows"], report[others[0]]["rows"]


def _read_rows(folder: pathlib.Path, family: str, suffix: str) -> list[dict]:
    return json.loads((folder / f"family_hold_{family}{suffix}.json").read_text())["rows"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidate", type=pathlib.Path, help="folder with family_hold_*.json")
    parser.add_argument("--reference", type=pathlib.Path, help="folder with the reference's")
    parser.add_argument("--candidate-suffix", default="", help="file name suffix, e.g. _run10")
    parser.add_argument("--reference-suffix", default="")
    parser.add_argument("--extra-report", type=pathlib.Path, action="append", default=[],
                        help="a benchmarks/unet_on_extra_val.py report holding 'bundled' and one candidate, "
                             "with per-crop rows (repeatable)")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args(argv)
    if (args.candidate is None) != (args.reference is None):
        parser.error("--candidate and --reference go together")
    pairs = {report.stem: _extra_rows(report)[::-1] for report in args.extra_report}
    for family in (*FAMILIES, *OPTIONAL_FAMILIES) if args.candidate else ():
        files = [folder / f"family_hold_{family}{suffix}.json" for folder, suffix in
                 ((args.candidate, args.candidate_suffix), (args.reference, args.reference_suffix))]
        if family in OPTIONAL_FAMILIES and not all(f.is_file() for f in files):
            continue
        pairs[family] = (_read_rows(args.candidate, family, args.candidate_suffix),
                         _read_rows(args.reference, family, args.reference_suffix))
    result = {}
    for name, (cand, ref) in pairs.items():
        result[name] = {level: paired_gains(cand, ref, level) for level in LEVELS}
        print(name, " | ".join(f"{lvl} {g['gain_db']:+.2f} ± {g['se_db']:.2f} dB" for lvl, g in result[name].items()))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
