"""The classical toolbox on a paired dataset's split: mean PSNR (dB) / SSIM of every classical
technique (and of the untouched input) per severity (``artrestore train toolbox``)."""
from __future__ import annotations

import numpy as np

from artrestore import classical, metrics
from artrestore.imageio import read_image
from artrestore.training._batch import map_files, safe
from artrestore.training.datasets import load_pairs

__all__ = ["evaluate_toolbox"]


def evaluate_toolbox(root, *, split="val", workers=None, progress=True) -> tuple[dict, list[str]]:
    """Mean PSNR / SSIM per technique and severity: {technique: {severity: (psnr, ssim, n)}}."""
    pairs = load_pairs(root, split)
    techniques = {"input (no restoration)": lambda im: im, **classical.TECHNIQUES}

    def one(pair):
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        scores = {}
        for name, fn in techniques.items():
            restored = fn(damaged)
            scores[name] = (metrics.psnr(restored, clean), metrics.ssim(restored, clean))
        return pair["severity"], scores

    results = map_files(safe(one), pairs, workers, "toolbox", progress)
    table: dict = {name: {} for name in techniques}
    for result, _ in results:
        if result is None:
            continue
        severity, scores = result
        for name, (p, s) in scores.items():
            table[name].setdefault(severity, []).append((p, s))
    summary = {name: {sev: (float(np.mean([v[0] for v in vals])), float(np.mean([v[1] for v in vals])), len(vals))
                      for sev, vals in by_sev.items()} for name, by_sev in table.items()}
    return summary, [e for _, e in results if e]
