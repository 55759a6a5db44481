"""Experiment: a tiny CNN that predicts the per-channel affine colour map of a damaged image.

Question: does a small network that sees the image's context (a 64 x 64 RGB thumbnail plus
per-channel percentiles of the full image) predict the colour map ``clean_c ~ gain_c * damaged_c +
offset_c`` better than the classical blind colour stage and the chain's forest, while leaving clean
images alone (do no harm)?

Subcommands (run in this order; every intermediate file goes under ``--work``, default
``out/colour_cnn``, which git ignores):

``data``   Damage the training-family clean images (``clean_train``, ``collect/crops``, ``extra_0``,
           ``extra_1`` under ``--devdata``; never the validation or test splits) and store, per case,
           the damaged and clean 64 x 64 thumbnails (uint8), the input features (float32) and the
           family / severity. Every source is resized with ``fit_size(image, 384)`` (the chain's
           convention: short side 384 px, long side cropped to 576 px) before damage; each
           ``--rounds`` round adds one case per family (broad, legacy ``synthesize``) and severity
           plus the clean image itself (identity target). ``--first-round 100 --rounds 20 --limit 59``
           adds 20 rounds of ``clean_train``'s 59 natural photographs alone (the crops are mostly
           wallpapers and game art; the validation images are natural photographs).
``train``  Fit the network with the loss ``mean_i log(mse_i + eps)`` (mean negative PSNR per thumbnail,
           capped at about 48 dB by ``eps``) of the damaged thumbnail mapped by the predicted affine
           map against the clean thumbnail; clean inputs are weighted up to ``--clean-fraction`` of
           the loss (identity target). Exports ``colour_cnn.onnx`` (float32 weights, not executable
           code) with ``tf2onnx`` and writes ``train.json`` (losses, seconds, parameter count).
``eval``   On the 12 validation sources (``clean_val``), ``--seeds`` damage seeds per source, family
           and severity plus the 12 clean images: PSNR (dB, ``artrestore.metrics.psnr``) of the input,
           the classical colour stage (``chain.colour.correct_colour``, its default parameters,
           strength 1: ``classical``; and with ``DEFAULT_CHAIN``'s colour strength and tolerances, as
           the classical chain runs it: ``classical_chain``), the oracle affine map (least squares
           with the clean image), the chain's forest map at strength 0.5 (``ChainRouter.predict_colour_map``) and the CNN's map at
           strengths 0.5 / 0.75 / 1. Every map is applied as the chain applies a learned map
           (``affine_lut`` with ``unclipped_top``, uint8). Writes ``eval.json`` (per-group mean gain
           over the input in dB, fraction of damaged images made worse by more than 0.05 dB, clean
           images' fraction >= 38 dB and mean PSNR capped at 60 dB, CNN CPU milliseconds per image)
           and the per-image rows, and prints a markdown table. ``--long-side`` resizes the validation
           images so the longer side is 384 px instead (``eval_long384.json``), a resolution the
           network was not trained at. ``colour_cnn.onnx`` and ``train.json`` are copied next to
           the results.

Usage: ``python benchmarks/colour_cnn_experiment.py {data,train,eval} [options]``.

The data live in ``colour_cnn_data.py`` (the ``data`` cases and the network's inputs) and the network in
``colour_cnn_model.py`` (definition, training, ONNX export and inference); this module is the command line and
the evaluation.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

import cv2
import numpy as np

from artrestore.training.chain_outcomes import _damage_fn  # a family's damaged image (broad / synthesize)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # the colour_cnn_* modules beside this one
from colour_cnn_data import FAMILIES, SEVERITIES, SIZE, THUMB, make_data
from colour_cnn_model import CLEAN_OK_DB, OnnxColour, train

__all__ = ["STRENGTHS", "oracle_map", "apply_map", "evaluate", "markdown", "main"]

STRENGTHS = (0.5, 0.75, 1.0)


# ---------------------------------------------------------------- maps

def oracle_map(damaged: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) of the per-channel least-squares affine map damaged -> clean (levels): the
    colour forest's target (``training.chain_colour.colour_target``) as a map."""
    from artrestore.chain.router import map_from_anchors
    from artrestore.training.chain_colour import colour_target

    return map_from_anchors(colour_target(damaged, clean))


def apply_map(image: np.ndarray, gains, offsets, strength: float) -> np.ndarray:
    """``strength`` of the map, applied as the chain applies a learned colour map."""
    from artrestore.chain.colour import affine_lut, apply_lut, unclipped_top

    return apply_lut(image, affine_lut(gains, offsets, unclipped_top(image), strength))


# ---------------------------------------------------------------- evaluation

def evaluate(devdata: pathlib.Path, work: pathlib.Path, seeds: int, out_dir: pathlib.Path,
             long_side: bool = False) -> dict:
    from artrestore import metrics
    from artrestore.analysis import analyze_vector
    from artrestore.chain import DEFAULT_CHAIN
    from artrestore.chain.colour import correct_colour
    from artrestore.chain.denoise import estimate_noise
    from artrestore.chain.features import chain_features
    from artrestore.chain.router import ChainRouter
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size, list_images

    cv2.setNumThreads(1)

    def resize(image):
        if not long_side:
            return fit_size(image, SIZE)
        factor = SIZE / max(image.shape[:2])
        return cv2.resize(image, (round(image.shape[1] * factor), round(image.shape[0] * factor)),
                          interpolation=cv2.INTER_AREA)

    cnn = OnnxColour(work / "colour_cnn.onnx")
    forest = ChainRouter.load()
    rows, cnn_ms, cnn_total_ms = [], [], []

    def score(name, family, severity, seed, damaged, clean):
        row = {"source": name, "family": family, "severity": severity, "seed": seed,
               "input": metrics.psnr(damaged, clean), "classical": metrics.psnr(correct_colour(damaged), clean),
               "classical_chain": metrics.psnr(correct_colour(
                   damaged, DEFAULT_CHAIN.colour_strength, cast_tolerance=DEFAULT_CHAIN.cast_tolerance,
                   black_tolerance=DEFAULT_CHAIN.black_tolerance, white_tolerance=DEFAULT_CHAIN.white_tolerance), clean),
               "oracle": metrics.psnr(apply_map(damaged, *oracle_map(damaged, clean), 1.0), clean)}
        inputs = np.concatenate([analyze_vector(damaged), chain_features(damaged, noise_sigma=estimate_noise(damaged))])
        row["forest_0.5"] = metrics.psnr(apply_map(damaged, *forest.predict_colour_map(inputs), 0.5), clean)
        start = time.perf_counter()
        gains, offsets = cnn(damaged)
        cnn_total_ms.append(1e3 * (time.perf_counter() - start))
        for s in STRENGTHS:
            row[f"cnn_{s}"] = metrics.psnr(apply_map(damaged, gains, offsets, s), clean)
        row["cnn_gains"] = [round(float(v), 4) for v in gains]
        row["cnn_offsets"] = [round(float(v), 2) for v in offsets]
        rows.append(row)

    paths = list_images(devdata / "clean_val")
    for k, path in enumerate(paths):
        clean = resize(read_image(path))
        score(path.name, "clean", "none", None, clean, clean)
        for family in FAMILIES:
            damage = _damage_fn(family)
            for severity in SEVERITIES:
                for draw in range(seeds):
                    seed = 7000 + k + 100_000 * draw
                    score(path.name, family, severity, seed, damage(clean, severity, seed), clean)
        print(f"{k + 1}/{len(paths)} {path.name}", flush=True)

    # The network alone (thumbnail + features + session), timed apart from the maps' application.
    feeds = cnn.feeds(resize(read_image(paths[0])))
    for _ in range(20):
        cnn.session.run(None, feeds)
    for _ in range(200):
        start = time.perf_counter()
        cnn.session.run(None, feeds)
        cnn_ms.append(1e3 * (time.perf_counter() - start))

    methods = ["classical", "classical_chain", "oracle", "forest_0.5"] + [f"cnn_{s}" for s in STRENGTHS]
    summary = []
    for family in FAMILIES:
        for severity in SEVERITIES:
            group = [r for r in rows if r["family"] == family and r["severity"] == severity]
            entry = {"family": family, "severity": severity, "n": len(group),
                     "input_psnr_db": float(np.mean([r["input"] for r in group]))}
            for m in methods:
                gain = np.array([r[m] - r["input"] for r in group])
                entry[m] = {"mean_gain_db": float(gain.mean()), "worse_fraction": float(np.mean(gain < -0.05))}
            summary.append(entry)
    clean_rows = [r for r in rows if r["family"] == "clean"]
    clean = {"n": len(clean_rows)}
    for m in methods:
        values = np.array([min(r[m], 60.0) for r in clean_rows])
        clean[m] = {"ok_fraction": float(np.mean(values >= CLEAN_OK_DB)), "mean_psnr_db_cap60": float(values.mean()),
                    "min_psnr_db": float(values.min())}
    train_record = json.loads((work / "train.json").read_text()) if (work / "train.json").exists() else None
    result = {
        "summary": summary, "clean": clean,
        "cnn_cpu_ms": {"session_median": float(np.median(cnn_ms)), "session_p90": float(np.percentile(cnn_ms, 90)),
                       "with_thumbnail_and_features_median": float(np.median(cnn_total_ms)),
                       "threads": 1, "runtime": "onnxruntime CPUExecutionProvider"},
        "record": {"seeds_per_source": seeds,
                   "size": f"longer side {SIZE} (area)" if long_side else f"fit_size({SIZE})", "thumb": THUMB,
                   "worse_threshold_db": 0.05, "clean_ok_db": CLEAN_OK_DB, "python": platform.python_version(),
                   "opencv": cv2.__version__, "cpu": platform.processor() or platform.machine(),
                   "train": {k: v for k, v in (train_record or {}).items() if k != "history"}},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    import shutil

    for name in ("colour_cnn.onnx", "train.json"):  # the evaluated network and its training record
        shutil.copyfile(work / name, out_dir / name)
    tag = "_long384" if long_side else ""
    (out_dir / f"eval{tag}.json").write_text(json.dumps(result, indent=1))
    (out_dir / f"eval{tag}_rows.json").write_text(json.dumps(rows))
    print(markdown(result))
    return result


def markdown(result: dict) -> str:
    methods = ["classical", "classical_chain", "oracle", "forest_0.5"] + [f"cnn_{s}" for s in STRENGTHS]
    lines = ["| family | severity | n | input dB | " + " | ".join(methods) + " |",
             "|---|---|---|---|" + "---|" * len(methods)]
    for e in result["summary"]:
        cells = [f"{e[m]['mean_gain_db']:+.2f} ({100 * e[m]['worse_fraction']:.0f} %)" for m in methods]
        lines.append(f"| {e['family']} | {e['severity']} | {e['n']} | {e['input_psnr_db']:.2f} | " + " | ".join(cells)
                     + " |")
    c = result["clean"]
    cells = [f"{100 * c[m]['ok_fraction']:.0f} % / {c[m]['mean_psnr_db_cap60']:.1f} / {c[m]['min_psnr_db']:.1f}"
             for m in methods]
    lines.append(f"| clean | none | {c['n']} | inf | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("data", "train", "eval"))
    parser.add_argument("--devdata", type=pathlib.Path, default=pathlib.Path("/work/main/.devdata"))
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path("out/colour_cnn"))
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("benchmarks/results/colour_cnn"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first-round", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clean-fraction", type=float, default=0.3)
    parser.add_argument("--width", type=int, default=32, help="train: CNN width; 0: features-only ablation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=pathlib.Path, default=None, help="train: start from this .keras model")
    parser.add_argument("--eps-levels", type=float, default=1.0,
                        help="train: the log-MSE floor as an RMS error in levels (1: a ~48 dB cap)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--long-side", action="store_true",
                        help="eval: resize validation images so the longer side is 384 px instead of fit_size")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.command == "data":
        make_data(args.devdata, args.work, args.rounds, args.workers, args.limit, args.first_round)
    elif args.command == "train":
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
        train(args.work, args.epochs, args.batch, args.lr, args.clean_fraction, args.width, args.seed, args.eps_levels,
              args.init)
    else:
        evaluate(args.devdata, args.work, args.seeds, args.out, args.long_side)


if __name__ == "__main__":
    main()
