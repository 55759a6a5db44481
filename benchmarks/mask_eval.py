"""Line and spot damage: the U-Net inside the damage masks against outside them, and the line/spot
detector's precision and recall, on the training family and the check family (issue 15, item 2).

Usage: python benchmarks/mask_eval.py [--clean DIR] [--out benchmarks/results/mask_eval.json]
       [--unet DIR] [--families broad,check] [--csv python/artrestore/models/unet/test_results.csv]

Images: the test split of the clean sources (``training.datasets.split_sources``, seed 0), longer
side at most 512 px, each damaged once per severity by the broad training family ("seen") and the
independent check family ("unseen"; reported only, nothing is chosen on it). Both generators return
the mask of their line and spot marks (scratches, cracks, dust, hairs, spots).

Per family and severity (means over images; PSNR in dB against the clean image):
- ``input`` and ``unet``: PSNR inside the mask, outside it and whole (the shipped U-Net, in
  process as users get it: ``dl.backends.make_backend("local")``); images whose mask covers under
  0.05 % of the pixels count only in ``outside``.
- ``detector``: ``chain.lines.detect_lines`` (the fast paths' detector, default sensitivity) scored
  pixel by pixel against the generator's mask with a tolerance of 2 px (a detected pixel within 2 px
  of a marked one is a hit; a marked pixel within 2 px of a detection is found): precision, recall,
  F1, summed over the images of the cell.
- ``unet_detector`` (a U-Net folder given with ``--unet`` whose architecture has a damage detector,
  ``UNetConfig.detector_filters``): the same scores for the U-Net's own mask at 0.5
  (``training.unet_broad_eval.detector_mask``). A model that is not shipped is measured with
  ``--families broad`` only: the check family is looked at once per shipped model.

``--csv``: one row per test image, family and severity (the U-Net's ``test_results.csv``): input and
network PSNR (dB) / SSIM against the clean image, and PSNR inside / outside the mask.
"""
from __future__ import annotations

import argparse
import csv
import json
import pathlib
import platform
import sys

import cv2
import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "benchmarks"))

from artrestore import metrics  # noqa: E402
from artrestore.chain.lines import detect_lines  # noqa: E402
from artrestore.check_family import check_damage  # noqa: E402
from artrestore.dl.backends import make_backend  # noqa: E402
from artrestore.training.broad_damage import broad_damage  # noqa: E402
from artrestore.training.synthesis import SEVERITIES  # noqa: E402
from family_eval import test_sources  # noqa: E402  (benchmarks/family_eval.py: the same test images)

FAMILIES = {"broad": broad_damage, "check": check_damage}
TOLERANCE_PX = 2
MIN_MASK_SHARE = 5e-4


def masked_psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    diff = (a.astype(np.float64) - b.astype(np.float64))[where]
    mse = float(np.mean(diff ** 2)) if diff.size else 0.0
    return 100.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def detection_counts(detected: np.ndarray, truth: np.ndarray) -> dict:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * TOLERANCE_PX + 1,) * 2)
    near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    near_detected = cv2.dilate(detected.astype(np.uint8), kernel) > 0
    return {"detected": int(detected.sum()), "detected_hits": int((detected & near_truth).sum()),
            "marked": int(truth.sum()), "marked_found": int((truth & near_detected).sum())}


def detection_scores(counts: dict) -> dict:
    """Precision, recall and F1 from ``detection_counts`` summed over images."""
    precision = counts["detected_hits"] / counts["detected"] if counts["detected"] else float("nan")
    recall = counts["marked_found"] / counts["marked"] if counts["marked"] else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), **counts}


def _own_detector(folder):
    """image -> bool mask of the U-Net's own damage detector, or None when it has none."""
    if folder is None:
        return None
    from artrestore.dl.weights import load_model, read_metadata

    if not read_metadata(folder).get("architecture", {}).get("detector_filters"):
        return None
    from artrestore.training.unet_broad_eval import detector_mask
    from artrestore.training.unet_grow import build_mask_model

    model, config, _ = load_model(folder)
    mask_model = build_mask_model(model)
    return lambda image: detector_mask(mask_model, config, image)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clean", type=pathlib.Path, default=REPO.parent / "shared" / "data" / "clean")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "mask_eval.json"))
    parser.add_argument("--unet", type=pathlib.Path, default=None, help="U-Net folder (default: the bundled one)")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated: broad,check")
    parser.add_argument("--csv", type=pathlib.Path, default=None, help="per-image rows (test_results.csv)")
    args = parser.parse_args()
    families = [f for f in args.families.split(",") if f]
    if not families or set(families) - set(FAMILIES):
        parser.error(f"--families: choose from {', '.join(FAMILIES)}, got {args.families!r}")
    unet = make_backend("local", model_dir=args.unet)
    own_detector = _own_detector(args.unet)
    images = test_sources(args.clean, args.seed)
    cells: dict = {}
    rows: list = []
    for family in families:
        damage = FAMILIES[family]
        for s, severity in enumerate(SEVERITIES):
            psnr = {k: [] for k in ("input_in", "input_out", "input_all", "unet_in", "unet_out", "unet_all")}
            counts = {"detected": 0, "detected_hits": 0, "marked": 0, "marked_found": 0}
            own_counts = dict(counts)
            masked_images = 0
            for k, (source, clean) in enumerate(images):
                damaged, mask, _ = damage(clean, severity, 1000 + 10 * k + s)
                mask = np.asarray(mask, bool)
                restored = unet.restore(damaged)
                outside = ~mask
                for name, image in (("input", damaged), ("unet", restored)):
                    psnr[f"{name}_out"].append(masked_psnr(image, clean, outside))
                    psnr[f"{name}_all"].append(masked_psnr(image, clean, np.ones_like(mask)))
                    if mask.mean() >= MIN_MASK_SHARE:
                        psnr[f"{name}_in"].append(masked_psnr(image, clean, mask))
                masked_images += int(mask.mean() >= MIN_MASK_SHARE)
                if args.csv is not None:
                    rows.append({"family": family, "source": source, "severity": severity, "seed": 1000 + 10 * k + s,
                                 "input_psnr": round(psnr["input_all"][-1], 4),
                                 "input_ssim": round(metrics.ssim(damaged, clean), 4),
                                 "output_psnr": round(psnr["unet_all"][-1], 4),
                                 "output_ssim": round(metrics.ssim(restored, clean), 4),
                                 "mask_share": round(float(mask.mean()), 5),
                                 "output_psnr_in_mask": round(psnr["unet_in"][-1], 4)
                                 if mask.mean() >= MIN_MASK_SHARE else "",
                                 "output_psnr_outside_mask": round(psnr["unet_out"][-1], 4)})
                detected = detect_lines(damaged) > 0
                for key, value in detection_counts(detected, mask).items():
                    counts[key] += value
                if own_detector is not None:
                    for key, value in detection_counts(own_detector(damaged), mask).items():
                        own_counts[key] += value
            cells[f"{family}/{severity}"] = {
                "images": len(images), "masked_images": masked_images,
                **{k: round(float(np.mean(v)), 3) if v else None for k, v in psnr.items()},
                "detector": detection_scores(counts)}
            if own_detector is not None:
                cells[f"{family}/{severity}"]["unet_detector"] = detection_scores(own_counts)
            print(family, severity, {k: v for k, v in cells[f"{family}/{severity}"].items() if k != "detector"},
                  cells[f"{family}/{severity}"]["detector"], flush=True)
    result = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "unet_runtime": unet.runtime,
              "unet": str(args.unet or "bundled"),
              "unet_precision": getattr(unet, "precision", None), "tolerance_px": TOLERANCE_PX, "cells": cells}
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.csv is not None:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
