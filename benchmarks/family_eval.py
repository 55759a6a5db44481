"""The honest baseline: every restoration path on damage it was trained on and on damage it has never seen.

Usage: python benchmarks/family_eval.py [--clean DIR] [--seed 0] [--out benchmarks/results/family_baseline.json]
       [--markdown benchmarks/results/family_baseline.md] [--limit N] [--no-dl]

Images: the test split of the dataset ``artrestore train data --src DIR --seed S`` would build
(``training.datasets.split_sources`` over the same file list and seed; no dataset is written), each clean
source shrunk so its longer side is at most 512 px (area filter; never enlarged).

Damage: each clean test image is damaged once per family and severity with a fixed seed:
``legacy`` (``training.synthesis.synthesize_damage``: what the shipped router, calibration and U-Net
were fitted on), ``broad`` (``training.broad_damage``: the training family from now on) and ``check``
(``check_family.check_damage``: never used for training or selection). Every path of
``HybridRestorer`` (``classical``, ``ml_guided``, ``dl``, ``auto``; ``input`` = untouched) is
scored against the clean image with ``artrestore.metrics`` PSNR (dB) and SSIM; time is the wall
time (and the process CPU time, all threads) of ``restore`` per image in this process (analysis +
routing + restoration).

Output: a JSON file (every row, the means per family / severity / path, ``auto``'s chosen paths,
the seen-unseen gaps) and a Markdown table for the README. Gap = mean PSNR gain over the
untouched input on a seen family minus that gain on the check family, per severity.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from artrestore import metrics  # noqa: E402
from artrestore._resize import shrink_to  # noqa: E402
from artrestore.check_family import check_damage  # noqa: E402
from artrestore.imageio import read_image  # noqa: E402
from artrestore.training.broad_damage import broad_damage  # noqa: E402
from artrestore.training.datasets import list_images, split_sources  # noqa: E402
from artrestore.training.synthesis import SEVERITIES, synthesize_damage  # noqa: E402

STRATEGIES = ("classical", "ml_guided", "dl", "auto")
PATHS = ("input", *STRATEGIES)
MAX_SIDE = 512
FAMILIES = {
    "legacy": lambda clean, severity, seed: synthesize_damage(clean, severity, seed)[0],
    "broad": lambda clean, severity, seed: broad_damage(clean, severity, seed)[0],
    "check": lambda clean, severity, seed: check_damage(clean, severity, seed)[0],
}
SEEN = ("legacy", "broad")


def test_sources(clean_dir: pathlib.Path, seed: int) -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8 image) for the test split of ``clean_dir`` under ``seed``, longer side <= 512."""
    paths = list_images(clean_dir)
    names = [str(p.relative_to(clean_dir)) for p in paths]
    split = split_sources(names, seed)
    out = []
    for path, name in zip(paths, names):
        if split[name] != "test":
            continue
        out.append((name, shrink_to(read_image(path), MAX_SIDE)))
    return out


def run(images, restorer, strategies, seed: int, progress: bool = True) -> list[dict]:
    from tqdm import tqdm

    jobs = [(name, clean, family, severity) for name, clean in images for family in FAMILIES for severity in SEVERITIES]
    rows = []
    for name, clean, family, severity in tqdm(jobs, desc="family baseline", disable=not progress):
        damaged = FAMILIES[family](clean, severity, seed)
        base = {"image": name, "family": family, "severity": severity}
        rows.append({**base, "strategy": "input", "psnr": metrics.psnr(damaged, clean),
                     "ssim": metrics.ssim(damaged, clean), "ms": 0.0, "method": "-"})
        for strategy in strategies:
            start, cpu = time.perf_counter(), time.process_time()
            restored, info = restorer.restore(damaged, strategy)
            ms, cpu_ms = 1e3 * (time.perf_counter() - start), 1e3 * (time.process_time() - cpu)
            rows.append({**base, "strategy": strategy, "psnr": metrics.psnr(restored, clean),
                         "ssim": metrics.ssim(restored, clean), "ms": ms, "cpu_ms": cpu_ms, "method": info["method"],
                         "fallback": (info.get("fallback") or {}).get("reason")})
    return rows


def summarise(rows: list[dict], strategies) -> dict:
    cells = {}
    for family in FAMILIES:
        for severity in SEVERITIES:
            for path in ("input", *strategies):
                sel = [r for r in rows if (r["family"], r["severity"], r["strategy"]) == (family, severity, path)]
                if sel:
                    cells.setdefault(family, {}).setdefault(severity, {})[path] = {
                        "psnr": float(np.mean([r["psnr"] for r in sel])),
                        "ssim": float(np.mean([r["ssim"] for r in sel])),
                        "median_ms": float(statistics.median(r["ms"] for r in sel)), "n": len(sel)}
    auto = {family: {severity: {} for severity in SEVERITIES} for family in FAMILIES}
    for r in rows:
        if r["strategy"] == "auto":
            counts = auto[r["family"]][r["severity"]]
            counts[r["method"]] = counts.get(r["method"], 0) + 1
    def gain(family, severity, path):
        c = cells[family][severity]
        return c[path]["psnr"] - c["input"]["psnr"]

    gaps = {f"{seen}_vs_check": {path: {severity: gain(seen, severity, path) - gain("check", severity, path)
                                        for severity in SEVERITIES} for path in strategies} for seen in SEEN}
    times = {path: float(statistics.median(r["ms"] for r in rows if r["strategy"] == path)) for path in strategies}
    cpu = {path: float(statistics.median(r["cpu_ms"] for r in rows if r["strategy"] == path)) for path in strategies}
    return {"cells": cells, "auto_methods": auto, "gain_gap_db": gaps, "median_ms": times, "median_cpu_ms": cpu}


def markdown(summary: dict, strategies, n_images: int) -> str:
    cells = summary["cells"]
    paths = ("input", *strategies)
    lines = [f"PSNR dB / SSIM, mean over {n_images} test images per row (longer side <= 512 px); "
             "`auto`'s choice as classical / ml_guided / U-Net counts.", "",
             "| family | severity | " + " | ".join(paths) + " | auto chose c / ml / dl |",
             "|---|---|" + "---|" * (len(paths) + 1)]
    for family in FAMILIES:
        for severity in SEVERITIES:
            c = cells[family][severity]
            counts = summary["auto_methods"][family][severity]
            chose = " / ".join(str(counts.get(m, 0)) for m in ("classical", "ml_guided", "deep_learning"))
            scores = " | ".join(f"{c[p]['psnr']:.2f} / {c[p]['ssim']:.3f}" for p in paths)
            lines.append(f"| {family} | {severity} | {scores} | {chose} |")
    lines += ["", "Median time per image, wall (process CPU, all threads) in ms: "
              + ", ".join(f"{p} {t:.0f} ({summary['median_cpu_ms'][p]:.0f})" for p, t in summary["median_ms"].items()),
              "", "Seen-unseen gap: PSNR gain over the input on a seen family minus the gain on the check family "
              "(dB):", "",
              "| path | " + " | ".join(f"legacy-check {s}" for s in SEVERITIES) + " | "
              + " | ".join(f"broad-check {s}" for s in SEVERITIES) + " |",
              "|---|" + "---|" * (2 * len(SEVERITIES))]
    for path in strategies:
        values = [summary["gain_gap_db"][f"{seen}_vs_check"][path][s] for seen in SEEN for s in SEVERITIES]
        lines.append(f"| {path} | " + " | ".join(f"{v:+.2f}" for v in values) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = pathlib.Path(os.environ.get("ARTRESTORE_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--clean", default=str(shared / "clean"), help="clean sources (as for `artrestore train data`)")
    parser.add_argument("--seed", type=int, default=0, help="split seed and damage seed")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "family_baseline.json"))
    parser.add_argument("--markdown", default=str(REPO / "benchmarks" / "results" / "family_baseline.md"))
    parser.add_argument("--limit", type=int, help="first N test images only (a quick look)")
    parser.add_argument("--no-dl", action="store_true", help="skip the U-Net path (auto falls back to ml_guided)")
    args = parser.parse_args(argv)

    from artrestore.restorer import HybridRestorer

    images = test_sources(pathlib.Path(args.clean), args.seed)[:args.limit]
    if not images:
        parser.error(f"no test images under {args.clean}")
    strategies = tuple(s for s in STRATEGIES if not (args.no_dl and s == "dl"))
    restorer = HybridRestorer(use_dl=not args.no_dl)
    restorer.restore(images[0][1], "dl" if not args.no_dl else "ml_guided")  # load the U-Net outside the timings
    start = time.time()
    rows = run(images, restorer, strategies, args.seed)
    summary = summarise(rows, strategies)
    result = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "images": [name for name, _ in images], "seed": args.seed, "max_side": MAX_SIDE,
              "wall_s": round(time.time() - start, 1), **summary, "rows": rows}
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(summary, strategies, len(images))
    pathlib.Path(args.markdown).write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
