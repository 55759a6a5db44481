"""What keeping a grayscale photograph gray is worth: the U-Net on grayscale scans.

Images: the validation split of the clean sources (longer side <= 512 px) as grayscale (BT.601
luma, ``monochrome.to_monochrome``), damaged by the broad damage model (one version per severity,
the hold's validation seeds) and turned gray again, as a damaged black-and-white scan arrives.
Per severity, mean PSNR (dB) against the gray clean image of: the input, the U-Net with its hold
as it comes (its channels differ: a tint) and the restorer's output (its luma, ``restore(...,
"dl")``). The check family is not used.

Run: ``python benchmarks/monochrome_eval.py [--clean DIR] [--out FILE.json]``.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]


def evaluate(clean_dir) -> dict:
    from artrestore.metrics import psnr
    from artrestore.monochrome import to_monochrome
    from artrestore.restorer import HybridRestorer
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.routing_outcomes import source_images
    from artrestore.training.unet_broad_data import val_damage_seed

    restorer = HybridRestorer()
    rows = {severity: [] for severity in SEVERITIES}
    for i, (_, clean) in enumerate(source_images(clean_dir, "val", max_side=512)[0]):
        gray = to_monochrome(clean)
        for k, severity in enumerate(SEVERITIES):
            damaged = to_monochrome(broad_damage(clean, severity, val_damage_seed(i, k, 0, 1))[0])
            restored, info = restorer.restore(damaged, "dl")
            tinted, _ = restorer._dl_restore(damaged, info["decision"]["severity_probability"])
            rows[severity].append([psnr(gray, damaged), psnr(gray, tinted), psnr(gray, restored)])
    return {severity: dict(zip(("input", "unet_tinted", "unet_gray"), np.mean(v, axis=0).round(3).tolist()))
            for severity, v in rows.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", default=str(REPO.parent / "shared" / "data" / "clean"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "monochrome_eval.json"))
    args = parser.parse_args(argv)
    report = evaluate(args.clean)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
