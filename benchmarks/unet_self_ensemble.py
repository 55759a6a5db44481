"""What a geometric self-ensemble buys the shipped U-Net, on the training family's validation split.

Each validation source (``.devdata/clean_val``, longer side fitted to 512 px) is damaged by the
broad damage model with the trainer's validation seeds (``unet_broad_data.val_plan``: the
same pairs as the trainer's ``--val-variants``), restored by the ONNX Runtime U-Net (fp32) once
per dihedral transform (4 rotations x optional mirror), and each output is turned back. Scored
per severity, PSNR / SSIM (dB, 0-1): the input, one pass (``x1``), the mean of the plain and the
mirrored pass (``x2``), the mean of all eight (``x8``), and the standard error of ``x8 - x1``.
Also the views' disagreement (per image, the mean over pixels of the standard deviation across the
eight outputs, grey levels) and its Spearman rank correlation with each image's gain over the
input, one view and eight: whether the network's own inconsistency tells where it does harm.
Never the check family: this chooses nothing, it measures whether an option is worth building.

    python benchmarks/unet_self_ensemble.py --draws 1 --out benchmarks/results/unet_self_ensemble/draws1.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

from artrestore.dl.ensemble import TRANSFORMS, forward, inverse


def measure(draws: int, clean_dir: str, workers: int) -> dict:
    from artrestore import metrics
    from artrestore._validate import to_uint8
    from artrestore.dl.onnx_runtime import OnnxUNetRestorer
    from artrestore.training.unet_broad_data import load_images, validation_pairs

    pairs = validation_pairs(load_images(clean_dir, 512), draws, workers)
    unet = OnnxUNetRestorer(precision="fp32")
    rows: dict[str, list] = {}  # per image: PSNR input, x1, x2, x8; SSIM the same; views' spread
    start = time.time()
    for image, truth, _, severity in pairs:
        x = image.astype(np.float32) / 255
        outs = [inverse(unet.restore_float(forward(x, t, m)), t, m) for t, m in TRANSFORMS]
        passes = {"x1": outs[0], "x2": (outs[0] + outs[1]) / 2, "x8": np.mean(outs, axis=0)}
        scored = {name: to_uint8(out) for name, out in passes.items()}
        rows.setdefault(severity, []).append(
            [metrics.psnr(image, truth)] + [metrics.psnr(scored[n], truth) for n in passes]
            + [metrics.ssim(image, truth)] + [metrics.ssim(scored[n], truth) for n in passes]
            + [float(255 * np.std(outs, axis=0).mean())])
    table = {}
    for severity, values in rows.items():
        v = np.asarray(values)
        table[severity] = {"pairs": len(v),
                           "psnr": dict(zip(["input", "x1", "x2", "x8"], v[:, :4].mean(0).round(3).tolist())),
                           "ssim": dict(zip(["input", "x1", "x2", "x8"], v[:, 4:8].mean(0).round(4).tolist())),
                           "x8_minus_x1_se_db": round(float(np.std(v[:, 3] - v[:, 1], ddof=1) / np.sqrt(len(v))), 3),
                           "view_spread": _spread_figures(v[:, 8], v[:, 1] - v[:, 0], v[:, 3] - v[:, 0])}
    every = np.concatenate([np.asarray(rows[k]) for k in rows])
    table["all"] = {"pairs": len(every),
                    "view_spread": _spread_figures(every[:, 8], every[:, 1] - every[:, 0], every[:, 3] - every[:, 0])}
    return {"draws": draws, "runtime": "onnxruntime fp32", "seconds": round(time.time() - start, 1),
            "model": json.loads(pathlib.Path(unet.model_dir, "model_metadata.json").read_text()).get("commit"),
            "severities": table}


def _spread_figures(spread: np.ndarray, gain_x1: np.ndarray, gain_x8: np.ndarray) -> dict:
    """Mean view spread (grey levels) and its Spearman correlation with the gains (dB over the input)."""
    from scipy.stats import spearmanr

    return {"mean_grey_levels": round(float(spread.mean()), 3),
            "spearman_with_gain_x1": round(float(spearmanr(spread, gain_x1).statistic), 3),
            "spearman_with_gain_x8": round(float(spearmanr(spread, gain_x8).statistic), 3),
            "harmed_x1": int((gain_x1 < 0).sum()),
            "spread_harmed_vs_helped_x1": [round(float(spread[gain_x1 < 0].mean()), 3) if (gain_x1 < 0).any() else None,
                                           round(float(spread[gain_x1 >= 0].mean()), 3) if (gain_x1 >= 0).any() else None]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--clean", default=".devdata/clean_val")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = measure(args.draws, args.clean, args.workers)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
