"""Helpers for the training steps that run over every file of a dataset: a threaded map with a
progress bar, per-file failures turned into results so a batch goes on, and CSV writing."""
from __future__ import annotations

import csv
import os
import pathlib
from concurrent.futures import ThreadPoolExecutor

__all__ = ["write_csv", "map_files", "safe"]


def write_csv(path, rows: list[dict]) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def map_files(fn, items, workers: int | None, desc: str, progress: bool):
    """Run fn over items on threads (the core and OpenCV release the GIL), with a progress bar."""
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(fn, items), total=len(items), desc=desc, disable=not progress))


def safe(fn):
    """Turn a per-file failure into a (None, error) result so a batch goes on."""
    def run(item):
        try:
            return fn(item), None
        except (OSError, ValueError) as error:
            return None, f"{item.get('file', item)}: {error}"
    return run
