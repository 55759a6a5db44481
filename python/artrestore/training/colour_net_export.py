"""The colour network's ONNX graph (``benchmarks/colour_cnn_experiment.py``'s export) as the model
folder the runtime reads (``chain.colour_net``): training only.

In: the ONNX file (its Conv and MatMul/Add initialisers, in graph order), the strength chosen on the
validation split, the experiment's training record (``train.json``) and its validation summary.
Out: ``colour_net.npz`` (float32 arrays named as ``chain.colour_net.ARRAY_SCHEMA``) and
``model_metadata.json`` (format, SHA-256 of the arrays and of the ONNX file, strength, records).
The conversion is checked: the NumPy forward pass must match ONNX Runtime on the graph's own
inputs, or nothing is written.

Run: ``python -m artrestore.training.colour_net_export --onnx benchmarks/results/colour_cnn/colour_cnn.onnx
--strength 0.5 --train-record benchmarks/results/colour_cnn/train.json --out python/artrestore/models/colour_net``.
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib

import numpy as np

from artrestore._modelfile import save_arrays, sha256
from artrestore.chain.colour_net import (
    ARRAY_SCHEMA,
    ARRAYS_FILE,
    CONV_STRIDES,
    FORMAT,
    N_DENSE,
    N_FEATURES,
    THUMB,
    ColourNet,
)

log = logging.getLogger(__name__)


def arrays_from_onnx(path) -> dict[str, np.ndarray]:
    """The network's weights in ``ARRAY_SCHEMA``'s names, read from the ONNX graph's nodes in order."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
    adds = {n.input[0]: n for n in model.graph.node if n.op_type == "Add"}
    if len(convs) != len(CONV_STRIDES) or len(matmuls) != N_DENSE:
        raise ValueError(f"{path}: expected {len(CONV_STRIDES)} Conv and {N_DENSE} MatMul nodes, "
                         f"found {len(convs)} and {len(matmuls)}")
    arrays = {}
    for i, (node, stride) in enumerate(zip(convs, CONV_STRIDES)):
        strides = next(list(a.ints) for a in node.attribute if a.name == "strides")
        if strides != [stride, stride]:
            raise ValueError(f"{path}: Conv {i} has strides {strides}, the runtime expects {stride}")
        arrays[f"conv{i}_w"] = init[node.input[1]].astype(np.float32)
        arrays[f"conv{i}_b"] = init[node.input[2]].astype(np.float32)
    for i, node in enumerate(matmuls):
        arrays[f"dense{i}_w"] = init[node.input[1]].astype(np.float32)
        arrays[f"dense{i}_b"] = init[adds[node.output[0]].input[1]].astype(np.float32)
    return arrays


def check_against_onnx(net: ColourNet, onnx_path, samples: int = 8, seed: int = 0) -> float:
    """Largest absolute difference between the NumPy forward pass and ONNX Runtime on random inputs."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(samples):
        thumb = rng.random((THUMB, THUMB, 3), dtype=np.float32)
        feats = rng.random(N_FEATURES, dtype=np.float32)
        feeds = {"thumb": thumb[None], "features": feats[None]}
        expected = session.run(None, {n: feeds[n] for n in names})[0][0]
        worst = max(worst, float(np.abs(net.outputs(thumb, feats) - expected).max()))
    return worst


def export(onnx_path, out, strength: float, train_record=None, validation=None, tolerance: float = 1e-4) -> pathlib.Path:
    """Write the model folder ``out`` (see the module docstring); ValueError if the check fails."""
    arrays = arrays_from_onnx(onnx_path)
    for name, (dtype, ndim) in ARRAY_SCHEMA.items():
        if arrays[name].dtype != np.dtype(dtype) or arrays[name].ndim != ndim:
            raise ValueError(f"{onnx_path}: array {name} is not {dtype} of rank {ndim}")
    metadata = {"format": FORMAT, "strength": float(strength), "onnx_sha256": sha256(pathlib.Path(onnx_path)),
                "thumb": THUMB, "n_features": N_FEATURES,
                "parameters": int(sum(a.size for a in arrays.values())),
                "training": json.loads(pathlib.Path(train_record).read_text()) if train_record else None,
                "validation": json.loads(pathlib.Path(validation).read_text()).get("summary") if validation else None}
    difference = check_against_onnx(ColourNet(arrays, metadata), onnx_path)
    if difference > tolerance:
        raise ValueError(f"NumPy and ONNX Runtime outputs differ by {difference:.2e} (> {tolerance:.0e})")
    metadata["numpy_vs_onnx_max_abs"] = difference
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metadata["arrays_sha256"] = save_arrays(out / ARRAYS_FILE, arrays)
    (out / "model_metadata.json").write_text(json.dumps(metadata, indent=1, sort_keys=True) + "\n")
    log.info("colour net written to %s (%d parameters, NumPy vs ONNX %.1e)", out, metadata["parameters"], difference)
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
