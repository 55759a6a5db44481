"""The U-Net alone on a paired dataset's split: per pair, input and output PSNR / SSIM against the
ground truth, written to a CSV (``artrestore train unet-test``)."""
from __future__ import annotations

import csv

from tqdm import tqdm

from artrestore import metrics
from artrestore.dl.inference import UNetRestorer
from artrestore.imageio import read_image
from artrestore.training.datasets import load_pairs

__all__ = ["evaluate_on_pairs"]


def evaluate_on_pairs(data_root, out_csv, *, split: str = "test", model_dir=None, progress: bool = True):
    """Per pair of a paired dataset split: input and U-Net PSNR / SSIM -> ``test_results.csv``."""
    unet = UNetRestorer(model_dir)
    rows = []
    for pair in tqdm(load_pairs(data_root, split), desc="U-Net test", disable=not progress):
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        restored = unet.restore(damaged)
        rows.append({"file": pair["file"], "source": pair["source"], "severity": pair["severity"],
                     "input_psnr": round(metrics.psnr(damaged, clean), 4), "input_ssim": round(metrics.ssim(damaged, clean), 4),
                     "output_psnr": round(metrics.psnr(restored, clean), 4),
                     "output_ssim": round(metrics.ssim(restored, clean), 4)})
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows
