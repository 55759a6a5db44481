"""Outcome rows for fitting the decision: the matrices, grouped folds and the choice rule replayed
on arrays (training only).

In: outcome rows (``training.routing_outcomes.read_outcomes``). Out: features (n x 27, float32),
gains over the input (n x paths, dB) and times (n x paths, s); folds that never split a source
image; the index of the path ``LearnedDecision.choose`` takes per row (-1: none).
``save_refit`` writes a decision refitted in part (severity forest, clean guard) beside its outcome tables.
"""
from __future__ import annotations

import numpy as np

from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.decision import NONE

__all__ = ["path_names", "outcome_matrix", "route_table", "realised", "group_folds", "save_refit"]


def group_folds(groups: np.ndarray, n_folds: int, seed: int, repeat: int):
    """(train, test) index pairs: the distinct groups shuffled by (seed, repeat) and dealt into
    ``n_folds`` folds, so no group is on both sides."""
    names = np.unique(groups)
    order = np.random.default_rng([seed, repeat]).permutation(len(names))
    fold_of = dict(zip(names[order], np.arange(len(names)) % n_folds))
    fold = np.array([fold_of[g] for g in groups])
    for k in range(n_folds):
        yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


def path_names(rows: list[dict]) -> list[str]:
    return [k[5:] for k in rows[0] if k.startswith("psnr_") and k[5:] != NONE]


def outcome_matrix(rows, paths):
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for r in rows], np.float32)
    gains = np.array([[r[f"psnr_{p}"] - r[f"psnr_{NONE}"] for p in paths] for r in rows], np.float64)
    seconds = np.array([[r[f"ms_{p}"] / 1e3 for p in paths] for r in rows], np.float64)
    return x, gains, seconds


def route_table(predicted_gains: np.ndarray, expected_s: np.ndarray, margin: float, cost: float) -> np.ndarray:
    """Index of the chosen path per row (-1 = none), by the rule of ``LearnedDecision.choose``."""
    utility = predicted_gains - cost * expected_s
    eligible = (predicted_gains > margin) & (utility > 0)
    utility = np.where(eligible, utility, -np.inf)
    best = np.argmax(utility, axis=1)
    return np.where(np.isfinite(utility[np.arange(len(best)), best]), best, -1)


def realised(choice, gains, seconds, none_s):
    rows = np.arange(len(choice))
    gain = np.where(choice >= 0, gains[rows, np.maximum(choice, 0)], 0.0)
    time = np.where(choice >= 0, seconds[rows, np.maximum(choice, 0)], none_s)
    return gain, time


def save_refit(source_folder, out_folder, arrays: dict, metadata: dict):
    """Save a decision refitted in part from ``source_folder`` (``arrays``, ``metadata`` less its
    old SHA-256) into ``out_folder`` with the source's outcome tables beside it; returns it loaded."""
    import pathlib
    import shutil

    from artrestore.decision import LearnedDecision, save_decision

    metadata = {k: v for k, v in metadata.items() if k != "arrays_sha256"}
    folder = save_decision(out_folder, arrays, metadata)
    for table in pathlib.Path(source_folder).glob("outcomes_*.csv"):
        shutil.copyfile(table, folder / table.name)
    return LearnedDecision.load(folder)
