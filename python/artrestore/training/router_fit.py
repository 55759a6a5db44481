"""Building the router from a paired dataset (the seed's notebooks 1, 3 and 4, as code).

- ``feature_table``: 14 features of every damaged and undamaged image -> ``fft_features.csv``.
- ``parameter_search``: for each training pair, the 40 combinations of colour correction x
  sharpen sigma x strength through the fused core call, scored by PSNR against the ground truth
  -> ``regression_training_data.csv``.
- ``fit_router``: RandomForestRegressor (14 features -> 3 parameters) on standardised features,
  5-fold cross-validated, saved as plain arrays (see ``artrestore.router``).
- ``calibrate``: decision thresholds that maximise mean PSNR on the validation pairs, minus a cost
  per second when the U-Net is counted, and the method distribution they give.

Inputs are a dataset written by ``artrestore.training.datasets.build_dataset``; unreadable files are reported
and skipped, never fatal. scikit-learn is needed here only (the ``train`` extra).
"""
from __future__ import annotations

import csv
import itertools
import json
import logging
import pathlib
import time
from dataclasses import asdict

import cv2
import numpy as np

from artrestore import __version__, classical, metrics
from artrestore.analysis import FEATURE_NAMES, analyze_vector
from artrestore.imageio import read_image
from artrestore.router import (
    DEFAULT_PARAMS,
    METHOD_FOR_SEVERITY,
    OUTPUTS,
    DecisionEngine,
    RestorationParams,
    Router,
    Thresholds,
    export_forest,
    save_router,
)
from artrestore.training._batch import map_files, safe, write_csv
from artrestore.training.datasets import load_pairs

__all__ = ["COLOR_CHOICES", "SIGMA_CHOICES", "STRENGTH_CHOICES", "GRID", "feature_table", "search_pair",
           "parameter_search", "fit_router", "calibrate"]

log = logging.getLogger(__name__)

COLOR_CHOICES = (0, 1)
SIGMA_CHOICES = (0.5, 1.0, 1.5, 2.0)
STRENGTH_CHOICES = (0.5, 1.0, 1.5, 2.0, 2.5)
GRID = tuple(itertools.product(COLOR_CHOICES, SIGMA_CHOICES, STRENGTH_CHOICES))  # 40, fixed order


def feature_table(root, out_csv, *, workers=None, progress=True) -> tuple[pathlib.Path, list[str]]:
    pairs = load_pairs(root)

    def one(pair):
        rows = []
        for kind in ("damaged", "undamaged"):
            f = analyze_vector(read_image(pair[kind]))
            rows.append({"split": pair["split"], "file": pair["file"], "kind": kind,
                         "severity": pair["severity"] if kind == "damaged" else "none",
                         **{n: repr(float(v)) for n, v in zip(FEATURE_NAMES, f)}})
        return rows

    results = map_files(safe(one), pairs, workers, "features", progress)
    rows = [r for result, _ in results if result for r in result]
    errors = [e for _, e in results if e]
    if not rows:
        raise ValueError(f"no readable pairs under {root}")
    return write_csv(out_csv, rows), errors


def search_pair(damaged: np.ndarray, clean: np.ndarray) -> tuple[RestorationParams, float, dict]:
    """Best of the 40 combinations by PSNR (first in grid order on ties) and every score."""
    scores = {}
    for colour, sigma, strength in GRID:
        out = classical.color_correct_sharpen(damaged, bool(colour), sigma, strength)
        scores[(colour, sigma, strength)] = cv2.PSNR(out, clean)
    best = max(GRID, key=lambda k: scores[k])
    return RestorationParams(bool(best[0]), best[1], best[2]), scores[best], scores


def parameter_search(root, out_csv, *, split="train", workers=None, progress=True):
    pairs = load_pairs(root, split)
    if not pairs:
        raise ValueError(f"no {split} pairs under {root}")

    def one(pair):
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        params, best_psnr, _ = search_pair(damaged, clean)
        return {"file": pair["file"], "severity": pair["severity"],
                **{n: repr(float(v)) for n, v in zip(FEATURE_NAMES, analyze_vector(damaged))},
                "apply_color_correction": int(params.apply_color_correction), "sharpen_sigma": params.sharpen_sigma,
                "sharpen_strength": params.sharpen_strength, "best_psnr": round(best_psnr, 4),
                "input_psnr": round(cv2.PSNR(damaged, clean), 4)}

    results = map_files(safe(one), pairs, workers, "parameter search", progress)
    rows = [r for r, _ in results if r]
    errors = [e for _, e in results if e]
    if not rows:
        raise ValueError("every pair failed; nothing to write")
    return write_csv(out_csv, rows), errors


def _read_training_table(path) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path} has no rows")
    x = np.array([[float(r[n]) for n in FEATURE_NAMES] for r in rows], np.float64)
    y = np.array([[float(r[n]) for n in OUTPUTS] for r in rows], np.float64)
    return x, y, rows


def fit_router(search_csv, out_folder, *, seed: int = 0, n_estimators: int = 100, max_depth: int = 10,
               min_samples_leaf: int = 2, extra_metadata: dict | None = None) -> pathlib.Path:
    """Fit, cross-validate and save the router (same table + seed -> the same bytes)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, rows = _read_training_table(search_csv)

    def model():
        return make_pipeline(StandardScaler(), RandomForestRegressor(
            n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
            random_state=seed, n_jobs=1))

    folds = KFold(5, shuffle=True, random_state=seed)
    cv = cross_validate(model(), x, y, cv=folds, scoring=("r2", "neg_mean_absolute_error"))
    pipeline = model().fit(x, y)
    scaler, forest = pipeline[0], pipeline[1]
    predictions = np.vstack([model().fit(x[tr], y[tr]).predict(x[te]) for tr, te in folds.split(x)])
    order = np.concatenate([te for _, te in folds.split(x)])
    colour_accuracy = float(np.mean((predictions[:, 0] >= 0.5) == (y[order, 0] >= 0.5)))
    metadata = {
        "version": __version__,
        "kind": "RandomForestRegressor",
        "hyperparameters": {"n_estimators": n_estimators, "max_depth": max_depth,
                            "min_samples_leaf": min_samples_leaf, "random_state": seed},
        "data": {"table": pathlib.Path(search_csv).name, "samples": len(rows),
                 "severities": {s: sum(r["severity"] == s for r in rows) for s in ("light", "moderate", "severe")}},
        "cross_validation": {"folds": 5, "r2_mean": float(cv["test_r2"].mean()), "r2_std": float(cv["test_r2"].std()),
                             "mae_mean": float(-cv["test_neg_mean_absolute_error"].mean()),
                             "colour_decision_accuracy": colour_accuracy},
        "nodes": int(sum(e.tree_.node_count for e in forest.estimators_)),
        **(extra_metadata or {}),
    }
    folder = save_router(out_folder, export_forest(forest, scaler), metadata)
    # The exported arrays must reproduce scikit-learn exactly.
    ours = Router.load(folder).predict_raw(x)
    np.testing.assert_allclose(ours, pipeline.predict(x), rtol=1e-12, atol=1e-12)
    return folder


def _val_scores(root, router: Router, dl_restore=None, *, split="val", workers=None, progress=True):
    """Per validation pair: features, PSNR/seconds of classical, ml_guided and (if given) dl."""
    pairs = load_pairs(root, split)

    def one(pair):
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        vec = analyze_vector(damaged)
        entry = {"file": pair["file"], "severity": pair["severity"], "features": dict(zip(FEATURE_NAMES, map(float, vec)))}
        runs = {"classical": lambda: classical.color_correct_sharpen(damaged, **DEFAULT_PARAMS.as_dict()),
                "ml_guided": lambda: classical.color_correct_sharpen(damaged, **router.predict(vec).as_dict())}
        if dl_restore is not None:
            runs["deep_learning"] = lambda: dl_restore(damaged)
        for method, run in runs.items():
            start = time.perf_counter()
            out = run()
            entry[method] = (metrics.psnr(out, clean), time.perf_counter() - start)
        entry["input"] = (metrics.psnr(damaged, clean), 0.0)
        return entry

    # The U-Net path runs its own threads; keep one pair at a time then.
    results = map_files(safe(one), pairs, 1 if dl_restore else workers, "validation", progress)
    return [r for r, _ in results if r], [e for _, e in results if e]


def calibrate(root, router_folder, *, dl_restore=None, seconds_cost_db: float = 1.0, gpu_speedup: float = 60.0,
              progress=True) -> dict:
    """Choose thresholds maximising mean PSNR - seconds_cost_db x mean seconds on the val pairs.

    A moderate threshold below 0 means no image takes the fixed-parameter classical path (its
    sharpening need is never negative), which the search may prefer when the data say so.

    Two profiles come from the same measurements: ``thresholds`` for this machine (the U-Net runs
    where it was timed; the severe threshold kept >= 0.3 so light damage stays fast) and
    ``accelerated`` for a U-Net served from a GPU (any threshold), where every measured
    second costs ``gpu_speedup`` times less (60: 1024² tiled, 3.53 s on the 2-core CPU against
    59 ms on an H100; README, U-Net speed).

    Without a U-Net (``dl_restore`` None) severe images fall back to ML-guided classical, which is
    what the restorer does then too. Writes the result into the router's metadata and returns it.
    """
    if seconds_cost_db < 0 or gpu_speedup < 1:
        raise ValueError("seconds_cost_db must be >= 0 and gpu_speedup >= 1")
    router = Router.load(router_folder)
    entries, errors = _val_scores(root, router, dl_restore, progress=progress)
    if not entries:
        raise ValueError(f"no readable validation pairs under {root}")

    def objective(t: Thresholds, cost: float):
        engine = DecisionEngine(t)
        total_psnr = total_s = 0.0
        counts = dict.fromkeys(METHOD_FOR_SEVERITY.values(), 0)
        for e in entries:
            method = engine.decide(e["features"])[1]
            counts[method] += 1
            scored = method if method in e else "ml_guided"
            total_psnr += e[scored][0]
            total_s += e[scored][1]
        n = len(entries)
        return total_psnr / n - cost * total_s / n, total_psnr / n, counts

    # A severe threshold below 0 sends every image to the U-Net, as a GPU may warrant.
    grid = [Thresholds(s, h, m) for s in np.round(np.arange(-0.05, 1.01, 0.05), 2)
            for h in (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1) for m in np.round(np.arange(-0.05, 1.0, 0.05), 2)
            if m <= s]
    # In process the severe threshold stays >= 0.3: light damage keeps its millisecond path (the
    # `auto` light-damage latency target) instead of the U-Net's seconds on a small CPU.
    local_grid = [t for t in grid if t.severe_sharpening_need >= 0.3]

    def profile(cost: float, candidates: list) -> dict:
        best = max(candidates, key=lambda t: objective(t, cost)[0])
        _, mean_psnr, counts = objective(best, cost)
        return {"thresholds": {name: float(value) for name, value in asdict(best).items()},
                "seconds_cost_db": cost, "mean_psnr": mean_psnr, "method_distribution": counts}

    _, seed_psnr, seed_counts = objective(Thresholds(), seconds_cost_db)
    result = {
        **profile(seconds_cost_db, local_grid),
        "accelerated": {**profile(seconds_cost_db / gpu_speedup, grid), "gpu_speedup": gpu_speedup},
        "validation_pairs": len(entries), "unet_counted": dl_restore is not None,
        "seed_thresholds": {"mean_psnr": seed_psnr, "method_distribution": seed_counts},
        "mean_psnr_by_method": {m: float(np.mean([e[m][0] for e in entries]))
                                for m in ("input", "classical", "ml_guided", "deep_learning") if m in entries[0]},
        "errors": errors,
    }
    meta_path = pathlib.Path(router_folder) / "model_metadata.json"
    metadata = json.loads(meta_path.read_text())
    metadata["decision"] = result
    meta_path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return result
