"""Outcome data for the learned decision (training only): what every path does to every image.

``measure_outcomes(images, family, damage, severities, seeds, restorer, paths)`` damages each clean
image with ``damage(clean, severity, seed) -> damaged`` (``broad_damage``, the training family, by
default; the report passes the check family's generator, which this package never imports) at each
severity and seed, and runs every restoration path through the public
``restorer.restore(image, strategy=...)`` (a ``HybridRestorer`` made by the caller: training code
does not import the restorer): ``none`` (the untouched input) and each method of
``artrestore.strategies.STRATEGIES`` (``classical``, ``ml_guided``, ``deep_learning`` and whatever
paths later issues register there). One row per damaged image: source, family, severity, seed,
size, the 27 routing features (``f_<name>``), the U-Net's 15 change features (``c_<name>``,
``acceptance.change_features`` of its output against the input), and per path ``psnr_<path>`` (dB, capped at
``PSNR_CAP_DB``), ``ssim_<path>``, ``ms_<path>`` (wall time of ``restore``; for ``none`` the
analysis alone) and ``method_<path>`` (what actually ran, so a U-Net fallback is visible).
Severity ``clean`` rows (no damage) teach the decision to leave clean images alone.

``remeasure_path(rows, images, damage, restorer)`` measures one path's columns again on the same
damaged images with another restorer (the report's served profile: the U-Net's self-ensemble).

``collect_outcomes(out_csv, restorer, ...)`` writes the CSV (atomically; checkpoints every minute;
``resume`` keeps rows already measured). Sources (``source_images``) are a split of the clean
folder under the dataset builder's rule (``training.datasets.split_sources``) plus every image of an
extra training-only folder, each shrunk so its longer side is at most ``max_side`` (area filter,
never enlarged). The command is ``artrestore routing outcomes``.
"""
from __future__ import annotations

import csv
import functools
import logging
import os
import pathlib
import time

import numpy as np

from artrestore import metrics
from artrestore._outcomes import OUTCOME_SIDE
from artrestore._resize import shrink_to
from artrestore.acceptance import CHANGE_FEATURE_NAMES, change_features
from artrestore.analysis import ROUTING_FEATURE_NAMES, routing_vector
from artrestore.imageio import read_image
from artrestore.strategies import STRATEGIES
from artrestore.training.datasets import list_images, split_sources
from artrestore.training.unet_broad_data import (
    CHOOSING_FAMILY_NAMES,
    DAMAGE_FAMILIES,
    damage_one,
    proxy_family_damage,
)

log = logging.getLogger(__name__)

__all__ = ["NONE", "CLEAN", "PSNR_CAP_DB", "DEFAULT_CLEAN", "broad_family", "legacy_family", "family_damage",
           "TRAINING_FAMILIES", "CHOOSING_FAMILIES",
           "restorer_paths", "source_images",
           "measure_outcomes", "remeasure_path", "collect_outcomes", "read_outcomes", "same_rows", "write_outcomes"]

NONE = "none"
CLEAN = "clean"
DL_PATH = STRATEGIES["deep_learning"]  # the U-Net path's method name
# PSNR of an image against itself is infinite; every table caps it here, so a clean image left
# untouched scores 50 dB and a path that changes it is charged for what it changed.
PSNR_CAP_DB = 50.0
_REPO = pathlib.Path(__file__).resolve().parents[3]
DEFAULT_CLEAN = pathlib.Path(os.environ.get("ARTRESTORE_DATA", _REPO.parent / "shared" / "data")) / "clean"


def family_damage(clean, severity, seed, family: str = "broad"):
    """The damaged image alone of one training-side generator (``unet_broad_data.damage_one``,
    which the U-Net's training uses too): ``broad``, the first synthesizer ``legacy``, or ``jitter``."""
    return damage_one(clean, severity, seed, family)[0]


# The damage families whose rows may train a decision, by name (the check family is not one).
TRAINING_FAMILIES = {name: functools.partial(family_damage, family=name) for name in DAMAGE_FAMILIES}
broad_family = TRAINING_FAMILIES["broad"]
legacy_family = TRAINING_FAMILIES["legacy"]


# Families whose rows may choose (a margin, a cost, a threshold) on any split but never train a
# forest: the proxy family, left out of training on purpose (docs/damage.md, "Proxy family").
CHOOSING_FAMILIES = {"proxy": proxy_family_damage}
assert tuple(CHOOSING_FAMILIES) == CHOOSING_FAMILY_NAMES


def restorer_paths(strategies=None) -> dict[str, str]:
    """{path: strategy to call} for every restoring method in ``strategies`` (default: the
    restorer's ``STRATEGIES``), one strategy per method; ``auto`` and ``none`` excluded (``none``
    is measured as the input itself)."""
    strategies = STRATEGIES if strategies is None else strategies
    paths: dict[str, str] = {}
    for strategy, method in strategies.items():
        if method and method != NONE and method not in paths:
            paths[method] = strategy
    return paths


def source_images(clean_dir, split: str = "train", *, split_seed: int = 0, max_side: int = OUTCOME_SIDE,
                  extra_dir=None, limit: int | None = None) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """((name, RGB uint8) of ``split``'s sources in ``clean_dir`` plus all of ``extra_dir``, errors)."""
    clean_dir = pathlib.Path(clean_dir)
    paths = list_images(clean_dir)
    names = [str(p.relative_to(clean_dir)) for p in paths]
    assignment = split_sources(names, split_seed)
    chosen = [(n, p) for p, n in zip(paths, names) if assignment[n] == split]
    if extra_dir is not None:
        extra_dir = pathlib.Path(extra_dir)
        chosen += [(f"extra/{p.relative_to(extra_dir)}", p) for p in list_images(extra_dir)]
    if limit is not None:
        chosen = chosen[:limit]
    images, errors = [], []
    for name, path in chosen:
        try:
            images.append((name, shrink_to(read_image(path), max_side)))
        except (OSError, ValueError) as error:
            errors.append(f"{name}: {error}")
            log.warning("skipping %s: %s", name, error)
    return images, errors


def _score(restored, clean) -> tuple[float, float]:
    return min(metrics.psnr(restored, clean), PSNR_CAP_DB), metrics.ssim(restored, clean)


def measure_one(name: str, clean: np.ndarray, family: str, damage, severity: str, seed: int, restorer,
                paths: dict[str, str]) -> dict:
    """One outcome row (see the module docstring)."""
    damaged = clean.copy() if severity == CLEAN else damage(clean, severity, seed)
    start = time.perf_counter()
    features = routing_vector(damaged)
    analysis_ms = 1e3 * (time.perf_counter() - start)
    row = {"source": name, "family": family, "severity": severity, "seed": seed, "height": damaged.shape[0],
           "width": damaged.shape[1], **{f"f_{n}": repr(float(v)) for n, v in zip(ROUTING_FEATURE_NAMES, features)}}
    psnr, ssim = _score(damaged, clean)
    row.update({f"psnr_{NONE}": psnr, f"ssim_{NONE}": ssim, f"ms_{NONE}": analysis_ms, f"method_{NONE}": NONE})
    for path, strategy in paths.items():
        row.update(_path_columns(damaged, clean, path, strategy, restorer))
    return row


def _path_columns(damaged, clean, path: str, strategy: str, restorer) -> dict:
    start = time.perf_counter()
    restored, info = restorer.restore(damaged, strategy)
    ms = 1e3 * (time.perf_counter() - start)
    psnr, ssim = _score(restored, clean)
    columns = {f"psnr_{path}": psnr, f"ssim_{path}": ssim, f"ms_{path}": ms, f"method_{path}": info["method"]}
    if path == DL_PATH:  # what the U-Net did, for the check after it (artrestore.acceptance)
        columns.update({f"c_{n}": repr(float(v)) for n, v in zip(CHANGE_FEATURE_NAMES, change_features(damaged, restored))})
    return columns


def remeasure_path(rows: list[dict], images, damage, restorer, path: str = DL_PATH, *,
                   progress: bool = False) -> list[dict]:
    """Copies of ``rows`` with ``path``'s columns measured again by ``restorer`` on the same damaged
    images (re-made from ``images``, ``[(name, clean)]``, by ``damage`` with each row's severity and
    seed): the same outcomes under another deployment of one path (e.g. the U-Net's self-ensemble)."""
    from tqdm import tqdm

    clean_by_name = dict(images)
    strategy = restorer_paths()[path]
    out = []
    for row in tqdm(rows, desc=f"{path} again", disable=not progress):
        clean = clean_by_name[row["source"]]
        damaged = clean.copy() if row["severity"] == CLEAN else damage(clean, row["severity"], int(row["seed"]))
        out.append({**row, **_path_columns(damaged, clean, path, strategy, restorer)})
    return out


def measure_outcomes(images, family: str, damage, severities, seeds, restorer, paths: dict[str, str] | None = None,
                     *, done: set | None = None, progress: bool = True, on_row=None) -> tuple[list[dict], list[str]]:
    """Rows for every (image, severity, seed); a failing image is reported and skipped."""
    from tqdm import tqdm

    paths = restorer_paths() if paths is None else paths
    jobs = [(n, im, s, k) for n, im in images for s in severities for k in (seeds if s != CLEAN else (0,))]
    rows, errors = [], []
    for name, clean, severity, seed in tqdm(jobs, desc=f"outcomes ({family})", disable=not progress):
        if done and (name, family, severity, seed) in done:
            continue
        try:
            row = measure_one(name, clean, family, damage, severity, seed, restorer, paths)
        except (OSError, ValueError) as error:
            errors.append(f"{name} {severity} {seed}: {error}")
            log.warning("outcome failed for %s (%s, seed %d): %s", name, severity, seed, error)
            continue
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows, errors


def read_outcomes(path) -> list[dict]:
    """Rows of an outcome CSV with numbers as floats (features, psnr, ssim, ms) and seeds as int."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path} has no outcome rows")
    for r in rows:
        for k, v in r.items():
            if k.startswith(("f_", "c_", "psnr_", "ssim_", "ms_")):
                r[k] = float(v)
        r["seed"], r["height"], r["width"] = int(r["seed"]), int(r["height"]), int(r["width"])
    return rows


def same_rows(rows: list[dict], csv_path) -> list[dict]:
    """The rows of ``csv_path`` in the order of ``rows`` (matched by source, family, severity and seed):
    the same damaged images with another deployment's outcomes. ValueError if one is missing."""
    other = read_outcomes(csv_path)
    if not {r["family"] for r in other} <= set(TRAINING_FAMILIES):
        raise ValueError(f"{csv_path}: rows of the training families {sorted(TRAINING_FAMILIES)} only")
    by_key = {(r["source"], r["family"], r["severity"], r["seed"]): r for r in other}
    keys = [(r["source"], r["family"], r["severity"], r["seed"]) for r in rows]
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise ValueError(f"{csv_path}: no outcome for {len(missing)} of the training rows, e.g. {missing[0]}")
    return [by_key[k] for k in keys]


def write_outcomes(path: pathlib.Path, rows: list[dict]) -> None:
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    tmp = path.with_name(f".{path.name}.part")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def collect_outcomes(out_csv, restorer, *, clean_dir=DEFAULT_CLEAN, split: str = "train", family: str = "broad",
                     damage=broad_family, extra_dir=None, seeds=(0,), severities=None, include_clean: bool = True,
                     max_side: int = OUTCOME_SIDE, split_seed: int = 0, limit: int | None = None, resume: bool = False,
                     progress: bool = True) -> tuple[pathlib.Path, list[str]]:
    """Measure and write the outcome CSV; returns (path, errors). A family outside
    ``TRAINING_FAMILIES`` and ``CHOOSING_FAMILIES`` (the check family, for the report) is measured
    on the test split only: nothing is fitted or chosen on it."""
    from artrestore.training.damage_ranges import SEVERITIES

    if family not in TRAINING_FAMILIES and family not in CHOOSING_FAMILIES and split != "test":
        raise ValueError(f"the {family} family is a test: measure it on the test split only")
    out_csv = pathlib.Path(out_csv)
    severities = tuple(severities or SEVERITIES) + ((CLEAN,) if include_clean else ())
    images, errors = source_images(clean_dir, split, split_seed=split_seed, max_side=max_side,
                                   extra_dir=extra_dir, limit=limit)
    if not images:
        raise ValueError(f"no readable {split} images under {clean_dir}")
    kept = read_outcomes(out_csv) if resume and out_csv.is_file() else []
    done = {(r["source"], r["family"], r["severity"], r["seed"]) for r in kept}
    rows = list(kept)
    last_write = [time.monotonic()]

    def checkpoint(row):  # a long run keeps what it measured if interrupted
        rows.append(row)
        if time.monotonic() - last_write[0] > 60:
            write_outcomes(out_csv, rows)
            last_write[0] = time.monotonic()

    _, failures = measure_outcomes(images, family, damage, severities, seeds, restorer, done=done,
                                   progress=progress, on_row=checkpoint)
    if not rows:
        raise ValueError("every image failed; nothing to write")
    write_outcomes(out_csv, rows)
    return out_csv, errors + failures
