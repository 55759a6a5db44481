"""Rows for the severity classifier: routing features of damaged training images (issue 16).

- ``collect_rows(folders, ...)``: each image (longer side shrunk to ``max_side`` px, as the routing
  outcomes are) damaged ``draws`` times per severity, seeds ``seed0 + 10 x image + 2 x level + draw``,
  by ``family``: a ``DAMAGE_FAMILIES`` name (default ``broad``), ``MIX`` (each row's family drawn
  evenly from the training families other than broad, ``row_family``) or a choosing family (the
  proxy, for scoring only). Returns the routing features (n x 27 float64), the level index into
  ``SEVERITIES``, the image index (the source, for grouped folds), each row's family and its input
  PSNR (dB against the clean crop).
- ``merge_rows(parts)``: several collections as one (sources regrouped by image path).

The check family is never read here. Used by ``severity_fit`` (fitting and scoring).
"""
from __future__ import annotations

import logging
import pathlib

import numpy as np

from artrestore._outcomes import OUTCOME_SIDE

log = logging.getLogger(__name__)

__all__ = ["collect_rows", "merge_rows", "row_family", "MIX", "SEED0"]

SEED0 = 7_000_000  # damage seeds of the collected rows (the routing outcomes use small seeds)
MIX = "mix"  # collect_rows' family: each row's own, drawn from the training families other than broad


def row_family(family: str, seed: int) -> str:
    """The damage family of a row drawn with ``seed``: ``family`` itself, or for ``MIX`` one of the
    ``DAMAGE_FAMILIES`` other than ``broad``, evenly, from a generator of its own."""
    from artrestore.training.unet_broad_data import CHOOSING_FAMILY_NAMES, DAMAGE_FAMILIES

    if family == MIX:
        others = [name for name in DAMAGE_FAMILIES if name != "broad"]
        return others[int(np.random.default_rng([seed, 5]).integers(len(others)))]
    if family not in (*DAMAGE_FAMILIES, *CHOOSING_FAMILY_NAMES):
        raise ValueError(f"family={family!r}: expected {MIX!r} or one of {(*DAMAGE_FAMILIES, *CHOOSING_FAMILY_NAMES)}")
    return family


def _rows_of_image(args):
    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.imageio import read_image
    from artrestore.metrics import psnr
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.unet_broad_data import family_image

    index, path, max_side, draws, seed0, family = args
    try:
        clean = shrink_to(read_image(path), max_side)
    except (OSError, ValueError) as error:
        log.warning("skipping %s: %s", path, error)
        return []
    rows = []
    for level, severity in enumerate(SEVERITIES):
        for draw in range(draws):
            seed = seed0 + 10 * index + 2 * level + draw
            name = row_family(family, seed)
            damaged = family_image(clean, severity, seed, name)
            rows.append((index, level, routing_vector(damaged), name, psnr(clean, damaged)))
    return rows


def collect_rows(folders, *, max_side: int = OUTCOME_SIDE, draws: int = 2, seed0: int = SEED0, workers: int = 2,
                 family: str = "broad") -> dict:
    """{"x": n x 27, "level": n, "source": n, "family": n, "input_psnr": n, "paths": images} for the
    images under ``folders``."""
    import multiprocessing

    from artrestore.training.datasets import list_images

    row_family(family, 0)  # a wrong name fails here, not in a worker
    paths = [p for folder in folders for p in list_images(pathlib.Path(folder))]
    if not paths:
        raise ValueError(f"no images under {[str(f) for f in folders]}")
    jobs = [(k, p, max_side, draws, seed0, family) for k, p in enumerate(paths)]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            found = [row for rows in pool.imap(_rows_of_image, jobs, chunksize=8) for row in rows]
    else:
        found = [row for job in jobs for row in _rows_of_image(job)]
    if not found:
        raise ValueError("no image could be read")
    return {"x": np.array([r[2] for r in found], np.float64), "level": np.array([r[1] for r in found], np.int64),
            "source": np.array([r[0] for r in found], np.int64), "family": np.array([r[3] for r in found]),
            "input_psnr": np.array([r[4] for r in found], np.float64), "paths": np.array([str(p) for p in paths]),
            "max_side": np.int64(max_side), "draws": np.int64(draws), "seed0": np.int64(seed0)}


def merge_rows(parts) -> dict:
    """Collections (``collect_rows`` dicts) as one; a source is an image path, so the same crop in two
    collections stays in one fold. ``draws`` and ``seed0`` become one entry per part; rows collected before
    rows kept their family are broad rows of unknown input PSNR."""
    parts = [p if "family" in p else {**p, "family": np.full(len(p["level"]), "broad"),  # collected before
                                          "input_psnr": np.full(len(p["level"]), np.nan)}  # families were kept
             for p in parts]
    if len({int(p["max_side"]) for p in parts}) != 1:
        raise ValueError(f"rows of different max_side: {[int(p['max_side']) for p in parts]}")
    paths = sorted({str(path) for p in parts for path in p["paths"]})
    index = {path: k for k, path in enumerate(paths)}
    source = [np.array([index[str(p["paths"][s])] for s in p["source"]], np.int64) for p in parts]
    return {"x": np.concatenate([p["x"] for p in parts]), "level": np.concatenate([p["level"] for p in parts]),
            "source": np.concatenate(source), "family": np.concatenate([p["family"] for p in parts]),
            "input_psnr": np.concatenate([p["input_psnr"] for p in parts]), "paths": np.array(paths),
            "max_side": parts[0]["max_side"], "draws": np.array([int(p["draws"]) for p in parts]),
            "seed0": np.array([int(p["seed0"]) for p in parts])}
