"""A cascade measured, not built: `ml_guided` (the chain with the router's colour map) then the U-Net.

In: the clean dataset (its validation split only: 12 sources no model trained on), damaged by
each training-side family (broad: the training family; legacy: the project's first synthesizer)
``--draws`` times per severity with ``unet_hold``'s seeds, longer side 384 px. Every image goes
through the shipped paths by ``HybridRestorer.restore``: ``ml_guided``, ``deep_learning`` (the
U-Net with its hold), the cascade ``deep_learning`` on ``ml_guided``'s output, and the cascade with
the U-Net's global colour change taken back (``dl.hold.hold_colour`` at 0: its local repairs on
the chain's colours). Out: mean PSNR (dB) per family and level in a JSON file; with ``--sheet``,
also a before/after sheet of the bundled demo samples (damaged | ml_guided | U-Net | cascade |
ground truth, PSNR on each tile).

    python benchmarks/cascade_probe.py --clean ../shared/data/clean --draws 4 \\
        --out benchmarks/results/cascade/cascade_val.json --sheet benchmarks/results/cascade/cascade_samples.jpg
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import cv2
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from artrestore._resize import shrink_to  # noqa: E402
from artrestore.dl.hold import hold_colour  # noqa: E402
from artrestore.imageio import read_image  # noqa: E402
from artrestore.metrics import psnr  # noqa: E402
from artrestore.restorer import HybridRestorer  # noqa: E402
from artrestore.training.damage_ranges import SEVERITIES  # noqa: E402
from artrestore.training.routing_outcomes import source_images  # noqa: E402
from artrestore.training.unet_broad_data import damage_one  # noqa: E402
from artrestore.training.unet_hold import damage_seed  # noqa: E402

COLUMNS = ("input", "ml_guided", "unet", "ml_guided_then_unet", "ml_guided_then_unet_local")
SAMPLES = ("chelsea_severe", "starry_night_severe", "woman_with_hat_moderate")
TILE = 300


def versions(restorer: HybridRestorer, image: np.ndarray) -> list[np.ndarray]:
    """The image and its outputs in ``COLUMNS`` order."""
    ml = restorer.restore(image, "ml_guided")[0]
    cascade = restorer.restore(ml, "deep_learning")[0]
    return [image, ml, restorer.restore(image, "deep_learning")[0], cascade, hold_colour(ml, cascade, 0.0)]


def measure(restorer: HybridRestorer, clean_dir: str, draws: int) -> dict:
    sources, _ = source_images(clean_dir, "val", max_side=384)
    report = {}
    for family in ("broad", "legacy"):
        rows = {level: [] for level in SEVERITIES}
        for i, (_, clean) in enumerate(sources):
            for d in range(draws):
                for k, level in enumerate(SEVERITIES):
                    damaged = damage_one(clean, level, damage_seed(i, k, d, draws), family)[0]
                    rows[level].append([psnr(clean, x) for x in versions(restorer, damaged)])
        report[family] = {level: dict(zip(COLUMNS, np.mean(v, axis=0).round(3).tolist())) for level, v in rows.items()}
    return {"sources": len(sources), "draws": draws, "columns": list(COLUMNS), "psnr_db": report}


def sheet(restorer: HybridRestorer, out: pathlib.Path) -> None:
    samples = pathlib.Path(__file__).resolve().parents[1] / "python" / "artrestore" / "samples"
    labels = ("damaged", "ml_guided", "U-Net", "ml_guided > U-Net")
    rows = []
    for name in SAMPLES:
        damaged, clean = read_image(samples / "damaged" / f"{name}.jpg"), read_image(samples / "clean" / f"{name}.jpg")
        tiles = []
        for image, label in [*zip(versions(restorer, damaged)[:4], labels), (clean, "ground truth")]:
            tile = shrink_to(image, TILE)
            tile = cv2.copyMakeBorder(tile, 16, TILE - tile.shape[0], 0, TILE - tile.shape[1], cv2.BORDER_CONSTANT,
                                      value=(255, 255, 255))
            text = label if label == "ground truth" else f"{label} {psnr(clean, image):.1f} dB"
            cv2.putText(tile, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
            tiles.append(tile)
        rows.append(np.concatenate(tiles, axis=1))
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", required=True, help="the clean dataset folder (its val split is used)")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--out", required=True, help="JSON report")
    parser.add_argument("--sheet", default=None, help="JPEG sheet of the bundled demo samples")
    args = parser.parse_args(argv)
    restorer = HybridRestorer()
    report = measure(restorer, args.clean, args.draws)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    if args.sheet:
        sheet(restorer, pathlib.Path(args.sheet))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
