"""The measurements behind the chain's fixed choices of method: denoising filter and inpainting.

On train-split images damaged by the training damage model, at the classical setting:
- denoising: each of ``denoise.METHODS`` as the chain's denoise stage (everything else equal),
  PSNR gain over the chain without denoising, and ms per image;
- inpainting: Telea, Navier-Stokes and normalised convolution of the detected mask at line
  sensitivity 1 (the ml_guided range), PSNR of the inpainted image and ms per image.
Writes a JSON report. Usage: python -m artrestore.training.chain_choices --src DIR --out FILE
"""
from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np

from artrestore import metrics
from artrestore.chain import DEFAULT_CHAIN, run_chain
from artrestore.chain import denoise as denoise_stage
from artrestore.chain.inpaint import METHODS as INPAINT_METHODS
from artrestore.chain.inpaint import inpaint
from artrestore.chain.lines import detect_lines
from artrestore.imageio import read_image
from artrestore.training.chain_outcomes import _damage_fn, train_sources
from artrestore.training.datasets import fit_size
from artrestore.training.synthesis import SEVERITIES


def measure(src, *, damage="broad", size=512, limit=16, seed=11) -> dict:
    cv2.setNumThreads(1)
    damage_fn = _damage_fn(damage)
    gains = {m: {s: [] for s in SEVERITIES} for m in denoise_stage.METHODS}
    times = {m: [] for m in denoise_stage.METHODS}
    fills = {m: {s: [] for s in SEVERITIES} for m in INPAINT_METHODS}
    fill_ms = {m: [] for m in INPAINT_METHODS}
    for k, (path, _) in enumerate(train_sources(src)[:limit]):
        clean = fit_size(read_image(path), size)
        for severity in SEVERITIES:
            damaged = damage_fn(clean, severity, seed * 1000 + k)
            noise = denoise_stage.estimate_noise(damaged)
            base = metrics.psnr(run_chain(damaged, skip=("denoise",), noise_sigma=noise).image, clean)
            for method in denoise_stage.METHODS:
                strength = max(DEFAULT_CHAIN.denoise_strength, 1.0)
                start = time.perf_counter()
                filtered = denoise_stage.denoise(damaged, strength, method, noise_sigma=max(noise, 6.0))
                times[method].append(1e3 * (time.perf_counter() - start))
                out = run_chain(filtered, skip=("denoise",), noise_sigma=noise).image
                gains[method][severity].append(metrics.psnr(out, clean) - base)
            mask = detect_lines(damaged, 1.0, noise_sigma=noise)
            if mask.any():
                for method in INPAINT_METHODS:
                    start = time.perf_counter()
                    filled = inpaint(damaged, mask, 3.0, method)
                    fill_ms[method].append(1e3 * (time.perf_counter() - start))
                    fills[method][severity].append(metrics.psnr(filled, clean) - metrics.psnr(damaged, clean))
    mean = lambda v: round(float(np.mean(v)), 3) if v else None
    return {
        "damage": damage, "size": size, "n_images": limit,
        "denoise": {m: {"gain_db": {s: mean(v) for s, v in gains[m].items()}, "median_ms": mean([np.median(times[m])])}
                    for m in gains},
        "inpaint": {m: {"gain_db": {s: mean(v) for s, v in fills[m].items()}, "median_ms": mean([np.median(fill_ms[m])])
                        if fill_ms[m] else None} for m in fills},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--damage", default="broad", choices=("broad", "synthesize"))
    parser.add_argument("--limit", type=int, default=16)
    args = parser.parse_args(argv)
    report = measure(args.src, damage=args.damage, limit=args.limit)
    text = json.dumps(report, indent=2)
    print(text)
    with open(args.out, "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
