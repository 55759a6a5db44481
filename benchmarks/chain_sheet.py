"""Before/after sheet of the restoration chain with its damage masks: docs/chain_sheet.jpg.

Usage: python benchmarks/chain_sheet.py [--out docs/chain_sheet.jpg] [EXTRA_IMAGE ...]
Rows: the bundled damaged samples (python/artrestore/samples/damaged) and any extra images given
(real old photographs and paintings, no ground truth). Columns: input, ``classical`` (fixed
setting), ``ml_guided`` (the router's setting), and the ml_guided damage mask (white: inpainted) -
or, where the router left the line stage off, the detector's mask at sensitivity 1 (not applied).
"""
from __future__ import annotations

import argparse
import pathlib

import cv2
import numpy as np

from artrestore.analysis import analyze_vector
from artrestore.chain import run_chain
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.features import chain_features
from artrestore.chain.lines import detect_lines
from artrestore.chain.router import ChainRouter
from artrestore.evaluation import SAMPLES, _label
from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size


def sheet_row(image: np.ndarray, name: str, router: ChainRouter, height: int = 220) -> np.ndarray:
    classical = run_chain(image)
    noise = estimate_noise(image)
    inputs = np.concatenate([analyze_vector(image), chain_features(image, noise_sigma=noise)])
    params, gain, colour_map = router.predict(inputs)
    guided = run_chain(image, params, noise_sigma=noise, colour_map=colour_map)
    if params.line_sensitivity > 0:
        mask, caption = guided.mask, f"ml_guided mask {100 * (guided.mask > 0).mean():.2f} %"
    else:  # the router left the line stage off: show what the detector finds at sensitivity 1
        mask = detect_lines(image, 1.0, noise_sigma=noise)
        caption = f"lines off; detector @1: {100 * (mask > 0).mean():.2f} %"
    tiles = [_label(image, f"{name}: input", height), _label(classical.image, "classical", height),
             _label(guided.image, f"ml_guided (pred. +{gain:.1f} dB)", height),
             _label(np.repeat(mask[..., None], 3, axis=2), caption, height)]
    return np.hstack(tiles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extra", nargs="*", help="more images (real damaged photographs or paintings)")
    parser.add_argument("--out", default="docs/chain_sheet.jpg")
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    router = ChainRouter.load()
    paths = sorted((SAMPLES / "damaged").glob("*")) + [pathlib.Path(p) for p in args.extra]
    rows = [sheet_row(fit_size(read_image(p), args.size), p.stem[:24], router) for p in paths]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    sheet = np.vstack(rows)
    out = pathlib.Path(args.out)
    ok, encoded = cv2.imencode(".jpg", sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encoded.tobytes())
    print(out, sheet.shape)


if __name__ == "__main__":
    main()
