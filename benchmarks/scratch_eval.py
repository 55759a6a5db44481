"""The long-straight-scratch stage (``chain.scratches``) on damaged images with their mark masks.

Inputs: the clean dataset folder, a split (``train`` / ``val`` / ``test``: ``split_sources``, seed 0),
a damage family (``broad``, the training family; ``proxy``, for choosing; ``check``, the test family,
for the one look at a shipped stage), sensitivities. Each source (longer side 512 px) is damaged
``--draws`` times per severity; the generators return the mask of their lines and marks. Output
(JSON and a table on stdout), per sensitivity and level: pixel precision and recall of the mask
against the generator's (2-px tolerance each way), the PSNR gain of removing the scratches over the
whole image and inside the generator's mask (dB), the mask's share of the image; and on the
undamaged sources the share left at >= 38 dB to the input and the lowest PSNR.

    python benchmarks/scratch_eval.py --clean ../shared/data/clean --split val --family broad \
        --sensitivity 1 2 --out benchmarks/results/scratches/val_broad.json
"""
from __future__ import annotations

import argparse
import json
import pathlib

import cv2
import numpy as np

LEVELS = ("light", "moderate", "severe")
SEED0 = 4_500_000
TOLERANCE = np.ones((5, 5), np.uint8)  # 2 px each way


def damaged(family: str, clean, severity: str, seed: int):
    if family == "check":
        from artrestore.check_family import check_damage
        out = check_damage(clean, severity, seed)
    elif family == "proxy":
        from artrestore.proxy_family import proxy_damage
        out = proxy_damage(clean, severity, seed)
    else:
        from artrestore.training.broad_damage import broad_damage
        out = broad_damage(clean, severity, seed)
    return out[0], np.asarray(out[1], bool)


def psnr_in(clean, image, where) -> float:
    """PSNR (dB) of ``image`` against ``clean`` on the pixels of the bool mask ``where`` (nan if none)."""
    if not where.any():
        return float("nan")
    error = np.mean((clean[where].astype(np.float64) - image[where]) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(error, 1e-10)))


def mark_counts(mask, truth) -> np.ndarray:
    """[found pixels near a true mark, found pixels, true pixels near a found one, true pixels] of a uint8
    0/255 ``mask`` against a bool ``truth``, each side grown by ``TOLERANCE``."""
    found = mask > 0
    return np.array([(found & cv2.dilate(truth.astype(np.uint8), TOLERANCE).astype(bool)).sum(), found.sum(),
                     (truth & cv2.dilate(mask, TOLERANCE).astype(bool)).sum(), truth.sum()])


def evaluate(clean_dir, split: str, family: str, sensitivities, draws: int, **options) -> dict:
    """The report above; ``options`` go to ``remove_scratches`` (``density=``: another texture cap)."""
    from artrestore.chain.scratches import remove_scratches
    from artrestore.metrics import psnr
    from artrestore.training.routing_outcomes import source_images

    cleans = [image for _, image in source_images(clean_dir, split, max_side=512)[0]]
    cases = [(level, i, *damaged(family, clean, level, SEED0 + 100 * i + 10 * k + d))
             for i, clean in enumerate(cleans) for k, level in enumerate(LEVELS) for d in range(draws)]
    report = {"family": family, "split": split, "sources": len(cleans), "draws": draws, "options": options,
              "sensitivity": {}}
    for sensitivity in sensitivities:
        undamaged = [min(psnr(clean, remove_scratches(clean, sensitivity, **options)[0]), 100.0) for clean in cleans]
        row = {"undamaged_share_38db": float(np.mean(np.array(undamaged) >= 38)), "undamaged_min_db": float(min(undamaged))}
        for level in LEVELS:
            counts, gains, inside, share = np.zeros(4), [], [], []
            for _, i, image, truth in (c for c in cases if c[0] == level):
                clean = cleans[i]
                restored, mask = remove_scratches(image, sensitivity, **options)
                counts += mark_counts(mask, truth)
                gains.append(psnr(clean, restored) - psnr(clean, image))
                if truth.any():
                    inside.append(psnr_in(clean, restored, truth) - psnr_in(clean, image, truth))
                share.append(np.mean(mask > 0))
            row[level] = {"precision": float(counts[0] / counts[1]) if counts[1] else None,
                          "recall": float(counts[2] / counts[3]) if counts[3] else None,
                          "gain_db": float(np.mean(gains)), "in_mask_gain_db": float(np.mean(inside)) if inside else None,
                          "mask_share": float(np.mean(share)), "images": len(gains)}
        report["sensitivity"][str(sensitivity)] = row
    return report


def table(report: dict) -> str:
    lines = [f"{report['family']} family, {report['split']} split, {report['sources']} sources x {report['draws']} draws",
             "| sensitivity | level | precision | recall | gain dB | in-mask gain dB | mask % |", "|---|---|---|---|---|---|---|"]
    for sensitivity, row in report["sensitivity"].items():
        for level in LEVELS:
            r = row[level]
            lines.append(f"| {sensitivity} | {level} | {r['precision'] if r['precision'] is None else round(r['precision'], 2)} "
                         f"| {r['recall'] if r['recall'] is None else round(r['recall'], 3)} | {r['gain_db']:+.2f} "
                         f"| {'-' if r['in_mask_gain_db'] is None else format(r['in_mask_gain_db'], '+.2f')} "
                         f"| {100 * r['mask_share']:.2f} |")
        lines.append(f"| {sensitivity} | undamaged | >= 38 dB: {row['undamaged_share_38db']:.2f} | lowest "
                     f"{row['undamaged_min_db']:.1f} dB | | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--split", choices=("train", "val", "test"), default="val")
    parser.add_argument("--family", choices=("broad", "proxy", "check"), default="broad")
    parser.add_argument("--sensitivity", type=float, nargs="+", default=[1.0])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--density", type=float, default=None, help="texture cap (default: the stage's DENSITY)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    options = {} if args.density is None else {"density": args.density}
    report = evaluate(args.clean, args.split, args.family, args.sensitivity, args.draws, **options)
    if args.out:
        pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
