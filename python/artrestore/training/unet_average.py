"""Average the weights of U-Net runs that continue one ancestor (a "model soup": Wortsman et al.,
2022, averaging fine-tuned weights that share their start): two runs that fell on either side of a
trade (one better on light damage, one on moderate) can meet in between without another GPU lease.

Inputs: two or more model folders (``unet.npz`` + ``model_metadata.json``, as the trainer writes
them) with the same architecture, and optional weights (default: equal). Output: a model folder
whose float16 weights are the weighted mean (computed in float32) and whose metadata is the first
run's, with the sources, their weights and their SHA-256 recorded under ``averaged_from`` and the
weights' own SHA-256. A candidate made this way is judged like any other
(``scripts/evaluate_unet_candidate.sh``); nothing here looks at any image.

    python -m artrestore.training.unet_average OUT RUN_A RUN_B [--weights 0.5 0.5]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import pathlib

import numpy as np

from artrestore import _modelfile
from artrestore.dl.contract import FORMAT
from artrestore.imageio import write_file_atomic

__all__ = ["average_weights", "average_runs"]

log = logging.getLogger(__name__)
WEIGHTS_FILE = "unet.npz"
METADATA_FILE = "model_metadata.json"


def average_weights(arrays: list[dict[str, np.ndarray]], weights: list[float]) -> dict[str, np.ndarray]:
    """The weighted mean of same-named, same-shaped arrays (float32 arithmetic, float16 result).
    ``weights`` are normalised to sum 1; a name or shape that differs between runs is a ValueError."""
    if len(arrays) < 2 or len(arrays) != len(weights):
        raise ValueError(f"need two or more runs with one weight each (got {len(arrays)} runs, {len(weights)} weights)")
    if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative and not all zero (got {weights})")
    names = sorted(arrays[0])
    for index, run in enumerate(arrays[1:], start=2):
        if sorted(run) != names:
            raise ValueError(f"run {index} holds other arrays than run 1")
        for name in names:
            if run[name].shape != arrays[0][name].shape:
                raise ValueError(f"run {index}: {name} has shape {run[name].shape}, run 1 {arrays[0][name].shape}")
    total = float(sum(weights))
    return {name: sum(np.float32(w / total) * run[name].astype(np.float32) for w, run in zip(weights, arrays))
            .astype(np.float16) for name in names}


def _read_run(folder: pathlib.Path) -> tuple[dict[str, np.ndarray], dict]:
    meta = _modelfile.read_metadata(folder, FORMAT, "U-Net")
    path = folder / WEIGHTS_FILE
    _modelfile.check_arrays(path, meta.get("weights_sha256"), "U-Net")
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}, meta


def average_runs(out, runs, weights=None) -> pathlib.Path:
    """Write the average of the model folders ``runs`` to the new folder ``out`` (never over an
    existing one); returns ``out``."""
    out = pathlib.Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; not overwritten")
    runs = [pathlib.Path(r) for r in runs]
    weights = [1.0] * len(runs) if weights is None else [float(w) for w in weights]
    read = [_read_run(folder) for folder in runs]
    architectures = {json.dumps(meta.get("architecture"), sort_keys=True) for _, meta in read}
    if len(architectures) != 1:
        raise ValueError("the runs have different architectures")
    averaged = average_weights([arrays for arrays, _ in read], weights)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **averaged)
    data = buffer.getvalue()
    meta = dict(read[0][1])
    meta["averaged_from"] = [{"folder": str(folder), "weight": w / sum(weights), "weights_sha256": m["weights_sha256"],
                              "commit": m.get("commit")} for folder, w, (_, m) in zip(runs, weights, read)]
    meta["weights_sha256"] = hashlib.sha256(data).hexdigest()
    write_file_atomic(out / WEIGHTS_FILE, data)
    write_file_atomic(out / METADATA_FILE, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    log.info("averaged %d runs into %s", len(runs), out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=pathlib.Path, help="new model folder to write")
    parser.add_argument("runs", type=pathlib.Path, nargs="+", help="model folders to average (two or more)")
    parser.add_argument("--weights", type=float, nargs="+", help="one weight per run (default: equal)")
    args = parser.parse_args(argv)
    try:
        average_runs(args.out, args.runs, args.weights)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
