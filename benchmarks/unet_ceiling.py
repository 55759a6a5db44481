"""What limits the U-Net on severe damage: colour versus structure, on a paired dataset split.

Usage: python benchmarks/unet_ceiling.py --data work/dataset [--split val] [--unet DIR] [--out FILE.json]

For each severe pair (RGB uint8 images read from the dataset) it reports, as means:
- input and U-Net PSNR / SSIM;
- the U-Net output after an oracle per-image colour fit (per-channel least squares against the
  truth): the error left once global colour is perfect;
- SSIM of the clean image after the severe blur alone (sigma 1.5 / 2.25 / 3 px, the severe range
  at 512 px) and after median blur + noise + grain + JPEG q35 with no colour damage: how much
  structure the damage removes before any restoration is attempted;
- SSIM of the U-Net's output from the median blur alone and from that structural-only damage:
  how much of the lost structure it recovers.
"""
import argparse
import pathlib
import sys

import cv2
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from report import print_and_save  # benchmarks/report.py, beside this script


def colour_fit(image: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-channel a * x + b fitted by least squares to the truth (an oracle: it sees the answer)."""
    out = np.empty(image.shape, np.float64)
    for c in range(3):
        x = image[..., c].astype(np.float64).ravel()
        design = np.stack([x, np.ones_like(x)], axis=1)
        coef, *_ = np.linalg.lstsq(design, truth[..., c].astype(np.float64).ravel(), rcond=None)
        out[..., c] = image[..., c] * coef[0] + coef[1]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--unet")
    parser.add_argument("--out")
    args = parser.parse_args()

    from artrestore import metrics
    from artrestore.dl.inference import UNetRestorer
    from artrestore.imageio import read_image
    from artrestore.training.datasets import load_pairs
    from artrestore.training.synthesis import synthesize_damage

    unet = UNetRestorer(args.unet)
    rows = []
    for pair in load_pairs(args.data, args.split):
        if pair["severity"] != "severe":
            continue
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        restored = unet.restore(damaged)
        fitted = colour_fit(restored, clean)
        row = {"input_psnr": metrics.psnr(damaged, clean), "input_ssim": metrics.ssim(damaged, clean),
               "unet_psnr": metrics.psnr(restored, clean), "unet_ssim": metrics.ssim(restored, clean),
               "unet_colour_fit_psnr": metrics.psnr(fitted, clean), "unet_colour_fit_ssim": metrics.ssim(fitted, clean)}
        for sigma in (1.5, 2.25, 3.0):
            blurred = cv2.GaussianBlur(clean.astype(np.float32), (0, 0), sigma)
            row[f"blur_{sigma}_only_ssim"] = metrics.ssim(np.clip(np.rint(blurred), 0, 255).astype(np.uint8), clean)
            if sigma == 2.25:  # what the U-Net recovers from blur alone
                blurred_u8 = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
                row["unet_on_blur_2.25_ssim"] = metrics.ssim(unet.restore(blurred_u8), clean)
        structural, _ = synthesize_damage(clean, "severe", 0, damage={"blur": 2.25, "noise": 10, "grain": 4.5, "jpeg": 35})
        row["structural_only_ssim"] = metrics.ssim(structural, clean)
        row["unet_on_structural_ssim"] = metrics.ssim(unet.restore(structural), clean)
        rows.append(row)
    summary = {"split": args.split, "severe_pairs": len(rows),
               **{key: round(float(np.mean([r[key] for r in rows])), 4) for key in rows[0]}}
    print_and_save(summary, args.out)


if __name__ == "__main__":
    main()
