"""``auto`` with and without the opt-in scratch stage first, on a family's validation images.

Inputs: the clean dataset folder; families (``broad``: training, ``proxy``: choosing; never the check
family here). Each validation source (``split_sources``, seed 0; longer side 384 px, as the routing
report) is damaged ``--draws`` times per severity (the eval's seeds, ``scratch_eval.damaged``) and also
kept clean; both restorers (``HybridRestorer()`` and ``HybridRestorer(scratches=S)``) restore every image
with ``auto``. Output (JSON and a table): per family and level, the mean PSNR gain over the input of
each, and the paths ``auto`` chose.

    python benchmarks/scratch_route_eval.py --clean ../shared/data/clean --families broad proxy --draws 4 \
        --out benchmarks/results/scratches/route_val.json
"""
from __future__ import annotations

import argparse
import collections
import json
import pathlib

import numpy as np

from scratch_eval import LEVELS, SEED0, damaged  # benchmarks/, the script's own folder

PSNR_CAP = 50.0  # dB: an untouched clean image is infinitely close; the routing report caps it so too


def evaluate(clean_dir, family: str, draws: int, sensitivity: float) -> dict:
    from artrestore import HybridRestorer
    from artrestore.metrics import psnr
    from artrestore.training.routing_outcomes import source_images

    restorers = {"auto": HybridRestorer(), "auto_scratches": HybridRestorer(scratches=sensitivity)}
    cleans = [image for _, image in source_images(clean_dir, "val", max_side=384)[0]]
    cases = [("clean", clean, clean) for clean in cleans]
    cases += [(level, clean, damaged(family, clean, level, SEED0 + 100 * i + 10 * k + d)[0])
              for i, clean in enumerate(cleans) for k, level in enumerate(LEVELS) for d in range(draws)]
    gains = {name: collections.defaultdict(list) for name in restorers}
    paths = {name: collections.defaultdict(collections.Counter) for name in restorers}
    for level, clean, image in cases:
        before = min(psnr(clean, image), PSNR_CAP)
        for name, restorer in restorers.items():
            restored, info = restorer.restore(image, "auto")
            gains[name][level].append(min(psnr(clean, restored), PSNR_CAP) - before)
            paths[name][level][info["method"]] += 1
    summary = {name: {level: {"gain_db": float(np.mean(v)), "se_db": float(np.std(v) / np.sqrt(len(v))),
                              "images": len(v), "paths": dict(paths[name][level])} for level, v in g.items()}
               for name, g in gains.items()}
    for name, g in gains.items():
        summary[name]["all_damaged"] = {"gain_db": float(np.mean([x for level in LEVELS for x in g[level]]))}
    return {"family": family, "draws": draws, "sensitivity": sensitivity, "sources": len(cleans), "summary": summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--families", nargs="+", choices=("broad", "proxy"), default=["broad", "proxy"])
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--sensitivity", type=float, default=1.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    reports = [evaluate(args.clean, family, args.draws, args.sensitivity) for family in args.families]
    for r in reports:
        for name, s in r["summary"].items():
            print(f"{r['family']:6s} {name:15s} " + "  ".join(
                f"{level} {s[level]['gain_db']:+.2f}" for level in ("clean", *LEVELS)) +
                f"  all damaged {s['all_damaged']['gain_db']:+.3f}")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(reports, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
