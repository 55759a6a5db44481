"""Where the training damage's decibels are: each kind of the broad model alone, per severity.

Inputs: the clean dataset folder (its ``val`` sources, longer side <= 512 px; never the test split
or the check family). For each source, ``draws`` seeds and each severity: the input PSNR (dB) of
the broad model as drawn (every kind with its probability), of each kind applied alone at that
severity's ranges (``broad_damage(..., kinds=[kind])``), and of the drawn image after Telea
inpainting of its own line/spot mask (dilated 1 px): what line removal could earn at best.
Output (JSON): per severity, ``drawn`` (mean input PSNR), ``inpaint_own_mask_gain`` (dB) and
``mask_fraction``, and per kind ``alone_psnr`` (mean), ``loss_db`` (mean of 60 dB capped minus
``alone_psnr``: how much that kind alone takes away) and ``probability`` (how often it occurs).

Run: ``python benchmarks/damage_attribution.py --clean ../shared/data/clean --draws 2 --out FILE.json``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from report import print_and_save  # noqa: E402

PSNR_CAP = 60.0  # dB: a kind that leaves an image unchanged counts as no loss


def attribute(images, draws: int = 2) -> dict:
    import cv2

    from artrestore.chain.inpaint import inpaint
    from artrestore.metrics import psnr
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.damage_ranges import KINDS, LINE_SPOT_KINDS, PROBABILITY, SEVERITIES

    def capped(clean, image):
        return min(psnr(clean, image), PSNR_CAP)

    out = {}
    for severity in SEVERITIES:
        drawn, inpainted, fraction = [], [], []
        alone = {kind: [] for kind in KINDS}
        for i, clean in enumerate(images):
            for d in range(draws):
                seed = 5000 + 10 * i + d
                damaged, mask, _ = broad_damage(clean, severity, seed)
                drawn.append(capped(clean, damaged))
                fraction.append(float(mask.mean()))
                grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) * 255
                filled = inpaint(damaged, grown) if grown.any() else damaged
                inpainted.append(capped(clean, filled) - drawn[-1])
                for kind in KINDS:
                    alone[kind].append(capped(clean, broad_damage(clean, severity, seed, kinds=[kind])[0]))
        out[severity] = {
            "drawn_psnr": round(float(np.mean(drawn)), 3), "inpaint_own_mask_gain": round(float(np.mean(inpainted)), 3),
            "mask_fraction": round(float(np.mean(fraction)), 4),
            "kinds": {kind: {"alone_psnr": round(float(np.mean(v)), 2), "loss_db": round(PSNR_CAP - float(np.mean(v)), 2),
                             "probability": PROBABILITY[severity][kind], "line_or_spot": kind in LINE_SPOT_KINDS}
                      for kind, v in alone.items()}}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    from artrestore.training.routing_outcomes import source_images

    sources, _ = source_images(args.clean, "val", max_side=512)
    result = {"split": "val", "sources": len(sources), "draws": args.draws,
              "severities": attribute([image for _, image in sources], args.draws)}
    print_and_save(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
