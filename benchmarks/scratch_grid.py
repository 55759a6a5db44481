"""The setting grid of the long-scratch stage (``chain.scratches``) on the train split (broad damage).

Inputs: a folder of the train split's clean sources (``.devdata/clean_train``: the 59 train-split
sources of ``../shared/data/clean``, docs/unet_training.md), the first ``--images`` of them (longer side
512 px), each damaged once per severity by the broad damage model (seeds 4 400 000 + 10 x image +
level) and kept undamaged; a JSON list of settings [texture cap, support, minimum length px,
(sensitivity)]. Output (JSON, one line per setting on stdout): the share of undamaged sources at >= 38
dB after removal and the lowest PSNR; per level pixel precision / recall against the generator's mark
mask (2 px tolerance), whole-image and in-mask PSNR gain (dB); pooled moderate + severe precision and
recall (the rule in docs/chain.md, "Long straight scratches", chooses on these).

    python benchmarks/scratch_grid.py --train .devdata/clean_train --images 40 \
        --out benchmarks/results/scratches/train_grid.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import pathlib

import numpy as np

from scratch_eval import LEVELS, mark_counts, psnr_in  # benchmarks/, the script's own folder

DEFAULT_GRID = [list(g) for g in itertools.product((0.1, 0.15, 0.2), (0.75, 0.85), (40, 60))]


def cases(folder, images: int) -> list:
    from artrestore._resize import shrink_to
    from artrestore.imageio import read_image
    from artrestore.training.unet_broad_data import damage_one

    out = []
    for i, path in enumerate(sorted(pathlib.Path(folder).glob("*"))[:images]):
        clean = shrink_to(read_image(path), 512)
        out.append(("clean", clean, clean, None))
        for k, level in enumerate(LEVELS):
            out.append((level, clean, *damage_one(clean, level, 4_400_000 + 10 * i + k, "broad")))
    return out


def score(setting, cases_) -> dict:
    from artrestore.chain.inpaint import inpaint
    from artrestore.chain.scratches import detect_scratches
    from artrestore.metrics import psnr

    density, support, min_length, *rest = setting
    sensitivity = rest[0] if rest else 1.0
    found = {}
    for level, clean, image, truth in cases_:
        mask = detect_scratches(image, sensitivity, min_length=min_length, support=support, density=density)
        filled = inpaint(image, mask)
        if truth is None:
            found.setdefault("clean", []).append(min(psnr(clean, filled), 60.0))
            continue
        found.setdefault(level, []).append((*mark_counts(mask, truth), psnr(clean, filled) - psnr(clean, image),
                                            psnr_in(clean, filled, truth) - psnr_in(clean, image, truth)))
    undamaged = np.array(found["clean"])
    row = {"clean_share38": float((undamaged >= 38).mean()), "clean_min": float(undamaged.min())}
    for level in LEVELS:
        a = np.array(found[level])
        s = a[:, :4].sum(0)
        row[level] = {"precision": float(s[0] / max(s[1], 1)), "recall": float(s[2] / s[3]),
                      "gain_db": float(a[:, 4].mean()), "in_mask_gain_db": float(np.nanmean(a[:, 5]))}
    pooled = np.array(found["moderate"] + found["severe"])[:, :4].sum(0)
    row["mod_sev_precision"], row["mod_sev_recall"] = float(pooled[0] / max(pooled[1], 1)), float(pooled[2] / pooled[3])
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="folder of the train split's clean sources")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--grid", default=None, help="JSON list of [cap, support, min length(, sensitivity)]")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    cases_ = cases(args.train, args.images)
    rows = {}
    for setting in json.loads(args.grid) if args.grid else DEFAULT_GRID:
        rows["_".join(map(str, setting))] = row = score(setting, cases_)
        print(setting, {k: row[k] for k in ("clean_share38", "clean_min", "mod_sev_precision", "mod_sev_recall")},
              flush=True)
    pathlib.Path(args.out).write_text(json.dumps({"train": args.train, "images": args.images, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
