"""Data for the colour CNN experiment: training cases from the training-family images, and the network's inputs.

Inputs: the clean training-family images under ``--devdata`` (``TRAIN_FOLDERS``; never the validation or test
splits), read as uint8 RGB and resized with ``fit_size(image, SIZE)`` (short side 384 px, long side cropped to
576 px) before damage.

Outputs: ``make_data`` writes one ``data_round{n}.npz`` per round under the work folder, with per case the
damaged and clean ``THUMB`` x ``THUMB`` (64 x 64 px) RGB thumbnails (uint8, levels 0-255), the input
``features`` (float32, ``N_FEATURES`` = 33 values in [0, 1]: per channel the ``PERCENTILES`` of the 256-bin
histogram, the mean and the standard deviation, as levels / 255), ``family`` (index into ``FAMILIES``, -1 for
the clean image itself), ``severity`` (index into ``SEVERITIES``, -1 for clean) and ``source`` (index of the
source file). ``load_data`` reads every round back as one dict of concatenated arrays.

Used by ``colour_cnn_model.py`` (training and inference inputs) and ``colour_cnn_experiment.py`` (the ``data``
subcommand and the evaluation's sizes and damage families).
"""
from __future__ import annotations

import pathlib
import time

import cv2
import numpy as np

from artrestore.training.chain_outcomes import _damage_fn  # a family's damaged image (broad / synthesize)

__all__ = ["THUMB", "SIZE", "PERCENTILES", "N_FEATURES", "FAMILIES", "SEVERITIES", "TRAIN_FOLDERS",
           "thumbnail", "features", "train_sources", "make_data", "load_data"]

THUMB = 64                        # thumbnail side, pixels
SIZE = 384                        # fit_size short side before damage
PERCENTILES = (0.5, 2.0, 10.0, 25.0, 50.0, 75.0, 90.0, 98.0, 99.5)
N_FEATURES = 3 * (len(PERCENTILES) + 2)
FAMILIES = ("broad", "synthesize")
SEVERITIES = ("light", "moderate", "severe")
TRAIN_FOLDERS = ("clean_train", "collect/crops", "extra_0", "extra_1")


# ---------------------------------------------------------------- inputs

def thumbnail(image: np.ndarray) -> np.ndarray:
    """THUMB x THUMB uint8 RGB thumbnail (area filter, aspect squashed)."""
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def features(image: np.ndarray) -> np.ndarray:
    """Per channel: PERCENTILES (from the 256-bin histogram), mean and standard deviation, in [0, 1]."""
    out = []
    for c in range(3):
        hist = cv2.calcHist([image], [c], None, [256], [0, 256]).ravel().astype(np.float64)
        cdf = np.cumsum(hist) / hist.sum()
        levels = np.arange(256.0)
        out.extend(float(np.searchsorted(cdf, p / 100.0)) / 255.0 for p in PERCENTILES)
        mean = float((hist * levels).sum() / hist.sum())
        out.append(mean / 255.0)
        out.append(float(np.sqrt((hist * (levels - mean) ** 2).sum() / hist.sum())) / 255.0)
    return np.asarray(out, np.float32)


# ---------------------------------------------------------------- data

def train_sources(devdata: pathlib.Path) -> list[pathlib.Path]:
    """Training-family image files, deduplicated by content digest, in a fixed order."""
    import hashlib

    from artrestore.training.datasets import list_images

    seen, paths = set(), []
    for folder in TRAIN_FOLDERS:
        for path in list_images(devdata / folder):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                paths.append(path)
    return paths


def _cases(job):
    """Every case of one source for one round: [(thumb_d, thumb_c, features, family, severity, k)]."""
    k, path, round_ = job
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size

    cv2.setNumThreads(1)
    try:
        clean = fit_size(read_image(path), SIZE)
    except Exception:  # noqa: BLE001 - an unreadable crop is skipped
        return []
    thumb_c = thumbnail(clean)
    rows = [(thumb_c, thumb_c, features(clean), -1, -1, k)]
    for f, family in enumerate(FAMILIES):
        damage = _damage_fn(family)
        for s, severity in enumerate(SEVERITIES):
            seed = 900_000 + 10_000 * round_ + 10 * k + 3 * f + s
            damaged = damage(clean, severity, seed)
            rows.append((thumbnail(damaged), thumb_c, features(damaged), f, s, k))
    return rows


def make_data(devdata: pathlib.Path, work: pathlib.Path, rounds: int, workers: int, limit: int | None,
              first_round: int = 0) -> None:
    """Rounds ``first_round`` .. ``first_round + rounds - 1`` of the first ``limit`` sources (the
    first 59 are ``clean_train``'s natural photographs, which extra rounds over-sample)."""
    from concurrent.futures import ProcessPoolExecutor

    paths = train_sources(devdata)[:limit]
    print(f"{len(paths)} training sources")
    for round_ in range(first_round, first_round + rounds):
        out = work / f"data_round{round_}.npz"
        if out.exists():
            continue
        start = time.perf_counter()
        jobs = [(k, p, round_) for k, p in enumerate(paths)]
        rows = []
        with ProcessPoolExecutor(workers) as pool:
            for n, case_rows in enumerate(pool.map(_cases, jobs, chunksize=8)):
                rows.extend(case_rows)
                if n % 500 == 0:
                    print(f"round {round_}: {n}/{len(jobs)} sources, {time.perf_counter() - start:.0f} s", flush=True)
        np.savez(out, damaged=np.stack([r[0] for r in rows]), clean=np.stack([r[1] for r in rows]),
                 features=np.stack([r[2] for r in rows]), family=np.array([r[3] for r in rows], np.int8),
                 severity=np.array([r[4] for r in rows], np.int8), source=np.array([r[5] for r in rows], np.int32))
        print(f"round {round_}: {len(rows)} cases in {time.perf_counter() - start:.0f} s -> {out}")


def load_data(work: pathlib.Path):
    parts = [np.load(p) for p in sorted(work.glob("data_round*.npz"))]
    keys = ("damaged", "clean", "features", "family", "severity", "source")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}
