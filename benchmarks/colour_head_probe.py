"""Can a blind estimate of the global colour map transfer to damage it was not fitted to? A probe.

``benchmarks/colour_share_probe.py`` showed that the oracle global affine colour map (3 x 3 plus
offset, fitted with the clean image) is worth +4 to +6 dB on every damage family. This probe fits
a random forest from colour statistics of the damaged image (per-channel percentiles, means,
spreads and correlations of a 64 px thumbnail) to that map's 12 coefficients, on training sources
damaged by the training-side families (``--train-families``, e.g. ``broad legacy`` against ``broad
legacy jitter``), and scores the damaged validation images after the predicted map, at full and half
strength, beside the input and the oracle, on ``broad``, ``legacy`` and the ``proxy`` family (a
generator no model was fitted to; never the check family). Out (JSON): per family and level, mean
PSNR (dB) of input, predicted map at each strength and oracle, and the share of images the map made
worse. Nothing here is shipped: it tells the next model what is within reach.

Run: ``python benchmarks/colour_head_probe.py --clean ../shared/data/clean --extra .devdata/collect12
--train-families broad legacy jitter --out FILE.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import cv2
import numpy as np

THUMB = 64
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
STRENGTHS = (1.0, 0.5)
SCORED_FAMILIES = ("broad", "legacy", "proxy")


def thumbnail(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA).reshape(-1, 3).astype(np.float64)


def features(image: np.ndarray) -> np.ndarray:
    """Colour statistics of ``image`` (uint8 RGB): 27 percentiles, 3 means, 3 spreads, 3 correlations."""
    t = thumbnail(image) / 255.0
    corr = np.corrcoef(t.T + 1e-9 * np.random.default_rng(0).standard_normal(t.T.shape))
    return np.concatenate([np.percentile(t, PERCENTILES, axis=0).ravel(), t.mean(0), t.std(0),
                           corr[np.triu_indices(3, 1)]])


def oracle_map(damaged: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """The least-squares affine map (4 x 3: rows R, G, B, offset; levels / 255) from ``damaged`` to ``clean``."""
    x = thumbnail(damaged) / 255.0
    design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    return np.linalg.lstsq(design, thumbnail(clean) / 255.0, rcond=None)[0]


IDENTITY = np.vstack([np.eye(3), np.zeros((1, 3))])


def apply_map(image: np.ndarray, coefficients: np.ndarray, strength: float) -> np.ndarray:
    m = IDENTITY + strength * (coefficients - IDENTITY)
    x = image.reshape(-1, 3).astype(np.float64) / 255.0
    out = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1) @ m
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8).reshape(image.shape)


def training_set(sources, families, draws: int, seed: int = 0):
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.unet_broad_data import family_image

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k, (_, clean) in enumerate(sources):
        for d in range(draws):
            family = families[int(rng.integers(len(families)))]
            damaged = family_image(clean, SEVERITIES[int(rng.integers(3))], 7_000_000 + draws * k + d, family)
            xs.append(features(damaged))
            ys.append((oracle_map(damaged, clean) - IDENTITY).ravel())
        # Clean pairs: the map must learn to leave an undamaged image alone.
        xs.append(features(clean))
        ys.append((oracle_map(clean, clean) - IDENTITY).ravel())
    return np.array(xs), np.array(ys)


def score(model, val_sources, family: str, draws: int) -> dict:
    from artrestore.metrics import psnr
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.unet_broad_data import family_image
    from artrestore.training.unet_broad_data import val_damage_seed as damage_seed

    rows = []
    for i, (_, clean) in enumerate(val_sources):
        for d in range(draws):
            for k, severity in enumerate(SEVERITIES):
                damaged = family_image(clean, severity, damage_seed(i, k, d, draws), family)
                predicted = model.predict(features(damaged)[None])[0].reshape(4, 3) + IDENTITY
                row = {"level": severity, "input": psnr(clean, damaged),
                       "oracle": psnr(clean, apply_map(damaged, oracle_map(damaged, clean), 1.0))}
                for s in STRENGTHS:
                    row[f"map_{s}"] = psnr(clean, apply_map(damaged, predicted, s))
                rows.append(row)
        predicted = model.predict(features(clean)[None])[0].reshape(4, 3) + IDENTITY
        rows.append({"level": "clean", "input": 100.0, "oracle": 100.0,
                     **{f"map_{s}": min(psnr(clean, apply_map(clean, predicted, s)), 100.0) for s in STRENGTHS}})
    summary = {}
    for level in ("clean", *SEVERITIES):
        sel = [r for r in rows if r["level"] == level]
        summary[level] = {key: round(float(np.mean([r[key] for r in sel])), 3) for key in sel[0] if key != "level"}
        for s in STRENGTHS:
            summary[level][f"worse_{s}"] = round(float(np.mean([r[f"map_{s}"] < r["input"] for r in sel])), 3)
    return summary


def main(argv=None) -> int:
    from sklearn.ensemble import RandomForestRegressor

    from artrestore.training.routing_outcomes import source_images

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--extra", default=None, help="training-only crops (e.g. the collections)")
    parser.add_argument("--train-families", nargs="+", default=["broad", "legacy"])
    parser.add_argument("--draws", type=int, default=2, help="damaged versions per training source")
    parser.add_argument("--val-draws", type=int, default=2)
    parser.add_argument("--score-families", nargs="+", default=list(SCORED_FAMILIES),
                        help="families to score on (a training family left out of --train-families measures transfer)")
    parser.add_argument("--size", type=int, default=256, help="longer side of every image, px")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if "proxy" in args.train_families:
        parser.error("the proxy family is for choosing only: never a training input")
    train, _ = source_images(args.clean, "train", max_side=args.size, extra_dir=args.extra)
    val, _ = source_images(args.clean, "val", max_side=args.size)
    x, y = training_set(train, args.train_families, args.draws)
    model = RandomForestRegressor(n_estimators=120, min_samples_leaf=4, max_features=0.5, n_jobs=2,
                                  random_state=0).fit(x, y)
    # Scoring predicts one image at a time: a process pool per call costs more than it saves.
    model.set_params(n_jobs=1)
    result = {"train_families": args.train_families, "train_sources": len(train), "train_cases": len(x),
              "size": args.size, "families": {f: score(model, val, f, args.val_draws) for f in args.score_families}}
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for family, table in result["families"].items():
        for level, values in table.items():
            print(family, level, " | ".join(f"{k} {v:.2f}" for k, v in values.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
