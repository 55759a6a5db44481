"""Probe: would a learned per-pixel line/spot detector beat the chain's morphological one?

Usage: python benchmarks/line_forest_probe.py [--extra N] [--out benchmarks/results/line_forest_probe.json]

A question for issues 15 (a detector trained on the damage model's free masks) and 23 (line
inpainting that never harms), answered on the training family only: nothing here looks at the
check family.

Data: the packed training images (``.devdata/clean_train``, the dataset's train sources, plus the
first ``--extra`` collected crops of ``.devdata/extra_0``; see ``scripts/pack_training_data.py``)
and the validation sources (``.devdata/clean_val``), longer side <= 512 px, each damaged once per
severity by ``training.broad_damage`` (train seeds from 1000, validation seeds from 900000 as
``training.unet_broad`` uses). Features per pixel (on the luma): black-hat and top-hat at three
widths, the mean residue around the pixel (texture density), the core's oriented run through it
(``_core.oriented_runs``, 12 angles), the isolated-peak response, local standard deviation, luma,
chroma and the blind noise sigma. Candidates: pixels whose widest residue exceeds
max(``--floor`` levels, ``--floor-sigma`` x noise sigma); the others are "no damage". A random
forest (scikit-learn, flattened to the core's ``_core.Forest`` as the routers are) is fitted on at
most 800 marked and 1600 unmarked candidates per training image.

Reported per severity on the validation pairs: precision and recall against the generator's mask
with the 2-px tolerance of ``benchmarks/mask_eval.py``, and the PSNR change (dB, mean and worst
image) from Telea-inpainting the detected mask (dilated by 1 px, radius 3), for the forest at
several probability thresholds and for ``chain.lines.detect_lines`` at its default sensitivity;
plus the forest's time per image (features, then forest on the candidates) and the candidate share.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time

import cv2
import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "benchmarks"))

from artrestore import _core  # noqa: E402
from artrestore.chain.denoise import estimate_noise  # noqa: E402
from artrestore.chain.lines import detect_lines, isolated_peaks, thin_residue  # noqa: E402
from artrestore.router import flatten_forest  # noqa: E402
from artrestore.training.broad_damage import broad_damage  # noqa: E402
from artrestore.training.damage_ranges import SEVERITIES  # noqa: E402
from mask_eval import detection_counts, masked_psnr  # noqa: E402  (the same 2-px tolerance)

THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
FEATURE_NAMES = ("blackhat_1", "tophat_1", "blackhat_2", "tophat_2", "blackhat_w", "tophat_w", "texture_density",
                 "oriented_run", "isolated_peak", "local_std", "luma", "chroma", "noise_sigma")


def load(folder: pathlib.Path, limit: int | None = None, size: int = 512) -> list[np.ndarray]:
    images = []
    for path in sorted(folder.iterdir())[:limit]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or min(image.shape[:2]) < 256:
            continue
        scale = size / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        images.append(np.ascontiguousarray(image[:, :, ::-1]))
    return images


def damaged_pairs(cleans: list[np.ndarray], first_seed: int) -> list[tuple]:
    """(damaged, mask, severity, clean) for every clean image and severity."""
    out = []
    for i, clean in enumerate(cleans):
        for k, severity in enumerate(SEVERITIES):
            damaged, mask, _ = broad_damage(clean, severity, first_seed + 3 * i + k)
            out.append((damaged, mask, severity, clean))
    return out


def pixel_features(rgb: np.ndarray, floor: float, floor_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(H x W x 13 float32 features in FEATURE_NAMES order, H x W bool candidates)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sigma = estimate_noise(gray)
    scale = min(gray.shape) / 512
    maps = []
    for width in (1, 2, max(2, round(3 * scale)) + 1):
        maps += list(thin_residue(gray, width))
    residue = np.maximum(maps[-2], maps[-1])
    box = 2 * round(8 * max(scale, 0.25) * np.sqrt(3)) + 1
    candidates = residue > max(floor, floor_sigma * sigma)
    low = (residue > max(6.0, 1.5 * sigma)).astype(np.uint8)
    runs = _core.oriented_runs(cv2.dilate(low, np.ones((3, 3), np.uint8)), 12, 2 * max(1, round(3 * scale)) + 3)
    g = gray.astype(np.float32)
    mean = cv2.blur(g, (7, 7))
    maps += [cv2.blur(residue, (box, box)), np.where(low > 0, runs, 0), isolated_peaks(residue, max(1, round(4 * scale))),
             np.sqrt(np.maximum(cv2.blur(g * g, (7, 7)) - mean * mean, 0)), gray,
             rgb.max(2).astype(np.float32) - rgb.min(2), np.full(gray.shape, sigma, np.float32)]
    return np.stack([m.astype(np.float32) for m in maps], -1), candidates


def fit_forest(pairs, floor, floor_sigma, seed=0):
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for damaged, mask, _, _ in pairs:
        x, candidates = pixel_features(damaged, floor, floor_sigma)
        flat_c, flat_m = candidates.ravel(), mask.ravel()
        picked = []
        for label, cap in ((True, 800), (False, 1600)):
            where = np.flatnonzero(flat_c & (flat_m == label))
            picked.append(rng.choice(where, min(len(where), cap), replace=False) if len(where) else where)
        xs.append(x.reshape(-1, x.shape[-1])[np.concatenate(picked)])
        ys.append(np.r_[np.ones(len(picked[0])), np.zeros(len(picked[1]))])
    x, y = np.concatenate(xs), np.concatenate(ys)
    model = RandomForestClassifier(n_estimators=24, max_depth=12, min_samples_leaf=20, n_jobs=2, random_state=seed)
    model.fit(x, y)
    arrays = flatten_forest(model, normalise_leaves=True)
    forest = _core.Forest(arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"], arrays["value"],
                          arrays["tree_roots"], x.shape[1])
    return forest, {"samples": int(len(y)), "marked_share": float(y.mean()),
                    "importance": dict(zip(FEATURE_NAMES, np.round(model.feature_importances_, 3).tolist()))}


def score(detections, pairs) -> dict:
    """Per severity: precision / recall (2-px tolerance) and the PSNR change from inpainting."""
    out = {}
    for severity in SEVERITIES:
        counts, gains = [], []
        for detected, (damaged, mask, s, clean) in zip(detections, pairs):
            if s != severity:
                continue
            grown = cv2.dilate(detected.astype(np.uint8), np.ones((3, 3), np.uint8))
            counts.append(detection_counts(grown > 0, mask))
            inpainted = cv2.inpaint(damaged, grown, 3, cv2.INPAINT_TELEA) if grown.any() else damaged
            everywhere = np.ones(mask.shape, bool)
            gains.append(masked_psnr(inpainted, clean, everywhere) - masked_psnr(damaged, clean, everywhere))
        total = {k: sum(c[k] for c in counts) for k in counts[0]}
        out[severity] = {"precision": round(total["detected_hits"] / max(total["detected"], 1), 3),
                         "recall": round(total["marked_found"] / max(total["marked"], 1), 3),
                         "inpaint_gain_db": round(float(np.mean(gains)), 2),
                         "inpaint_worst_db": round(float(np.min(gains)), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(REPO / ".devdata"))
    parser.add_argument("--extra", type=int, default=150, help="collected crops added to the training images")
    parser.add_argument("--floor", type=float, default=10.0, help="candidate floor, 8-bit levels")
    parser.add_argument("--floor-sigma", type=float, default=3.0, help="candidate floor, x noise sigma")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/line_forest_probe.json"))
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    start = time.time()
    train = damaged_pairs(load(data / "clean_train") + load(data / "extra_0", args.extra), 1000)
    val = damaged_pairs(load(data / "clean_val"), 900_000)
    forest, record = fit_forest(train, args.floor, args.floor_sigma)
    probabilities, feature_s, forest_s, shares = [], [], [], []
    for damaged, *_ in val:
        t0 = time.perf_counter()
        x, candidates = pixel_features(damaged, args.floor, args.floor_sigma)
        t1 = time.perf_counter()
        p = np.zeros(candidates.shape, np.float32)
        if candidates.any():
            p[candidates] = forest.predict(x[candidates])[:, 1]
        forest_s.append(time.perf_counter() - t1)
        feature_s.append(t1 - t0)
        shares.append(float(candidates.mean()))
        probabilities.append(p)
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": 2},
        "train_pairs": len(train), "val_pairs": len(val), "floor": args.floor, "floor_sigma": args.floor_sigma,
        "forest": record, "feature_ms_per_image": round(1e3 * float(np.mean(feature_s)), 1),
        "forest_ms_per_image": round(1e3 * float(np.mean(forest_s)), 1),
        "candidate_share": round(float(np.mean(shares)), 3),
        "forest_by_threshold": {str(t): score([p > t for p in probabilities], val) for t in THRESHOLDS},
        "morphological_default": score([detect_lines(d) > 0 for d, *_ in val], val),
        "seconds": round(time.time() - start, 1),
    }
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
