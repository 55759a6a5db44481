"""The colour network's ONNX graph (``benchmarks/colour_cnn_experiment.py``'s export) as the model
folder the runtime reads (``chain.colour_net``): training only.

In: the ONNX file, the strength chosen on the validation split, the experiment's training record
(``train.json``) and its validation file (``eval.json``). Out: ``colour_net.onnx`` (the graph, copied)
and ``model_metadata.json`` (format, the graph's SHA-256, strength, parameter count, records). The
runtime's pass (OpenCV DNN) is checked against ONNX Runtime on random inputs before anything is
written.

Run: ``python -m artrestore.training.colour_net_export --onnx benchmarks/results/colour_cnn/colour_cnn.onnx
--strength 0.5 --train-record benchmarks/results/colour_cnn/train.json
--validation benchmarks/results/colour_cnn/eval.json --out python/artrestore/models/colour_net``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pathlib

import numpy as np

from artrestore.chain.colour_net import FORMAT, GRAPH_FILE, N_FEATURES, THUMB, ColourNet

log = logging.getLogger(__name__)


def largest_difference(net: ColourNet, graph: bytes, samples: int = 8, seed: int = 0) -> float:
    """Largest absolute difference between the runtime's outputs and ONNX Runtime's on random inputs."""
    import onnxruntime as ort

    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(samples):
        feeds = {"thumb": rng.random((1, THUMB, THUMB, 3), dtype=np.float32),
                 "features": rng.random((1, N_FEATURES), dtype=np.float32)}
        expected = session.run(None, {n: feeds[n] for n in names})[0][0]
        worst = max(worst, float(np.abs(net.outputs(feeds["thumb"][0], feeds["features"][0]) - expected).max()))
    return worst


def parameter_count(graph: bytes) -> int:
    """Weights and biases: the graph's float initialisers (its integer constants are shapes and axes)."""
    import onnx

    return int(sum(np.prod(t.dims) for t in onnx.load_from_string(graph).graph.initializer
                   if t.data_type == onnx.TensorProto.FLOAT))


def export(onnx_path, out, strength: float, train_record=None, validation=None, tolerance: float = 1e-4) -> pathlib.Path:
    """Write the model folder ``out`` (see the module docstring); ValueError if the check fails."""
    graph = pathlib.Path(onnx_path).read_bytes()
    metadata = {"format": FORMAT, "strength": float(strength), "graph_sha256": hashlib.sha256(graph).hexdigest(),
                "thumb": THUMB, "n_features": N_FEATURES, "parameters": parameter_count(graph),
                "training": json.loads(pathlib.Path(train_record).read_text()) if train_record else None,
                "validation": json.loads(pathlib.Path(validation).read_text()).get("summary") if validation else None}
    difference = largest_difference(ColourNet(graph, metadata), graph)
    if difference > tolerance:
        raise ValueError(f"OpenCV DNN and ONNX Runtime outputs differ by {difference:.2e} (> {tolerance:.0e})")
    metadata["opencv_vs_onnxruntime_max_abs"] = difference
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / GRAPH_FILE).write_bytes(graph)
    (out / "model_metadata.json").write_text(json.dumps(metadata, indent=1, sort_keys=True) + "\n")
    log.info("colour net written to %s (%d parameters, OpenCV vs ONNX Runtime %.1e)", out, metadata["parameters"],
             difference)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--strength", type=float, required=True, help="share of the map applied (validation choice)")
    parser.add_argument("--train-record", default=None, help="the experiment's train.json")
    parser.add_argument("--validation", default=None, help="the experiment's eval.json")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    export(args.onnx, args.out, args.strength, args.train_record, args.validation)


if __name__ == "__main__":
    main()
