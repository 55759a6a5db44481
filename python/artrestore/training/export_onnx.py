"""Export the trained Keras U-Net to ONNX for the in-process runtime (``onnx_unet``): fp32 and int8.

Input: a U-Net folder (``unet.npz`` + ``model_metadata.json``, default the bundled one) and the
folder of clean images it was trained on (for int8 calibration on training crops and for the
validation pairs). Output, beside the weights (or in ``out_dir``):

- ``unet_fp32.onnx``: the Keras model as traced by tf2onnx (opset 17, dynamic N, H, W; inputs
  ``image`` [N, H, W, 3] and ``context`` [N, 128, 128, 3] float32 in [0, 1], output ``restored``
  clipped to [0, 1]). Its weights are stored as float16 with a Cast to float32 that ONNX Runtime
  folds at load: exact, since ``unet.npz`` holds float16 weights, and half the file.
- ``unet_int8.onnx``: static QDQ quantization (ONNX Runtime's quantizer): per-channel int8
  weights, uint8 activations (ranges: 99.999th percentile) calibrated on random 256^2 crops of
  damaged *training* images (the
  dataset's split rule, never validation or test images, never the check family); the colour
  transform, the head and the residual add stay float32.
- ``onnx_metadata.json``: format tag, SHA-256 of each graph and of the ``unet.npz`` it came from,
  the fp32 graph's largest difference from Keras, validation PSNR / SSIM per severity of Keras,
  fp32 and int8, the default precision chosen from them (int8 when within ``MAX_PSNR_LOSS_DB`` of
  Keras), GFLOP per 256^2 tile, tool versions.

Re-run after every training (the runtime refuses graphs whose source hash differs from the
``unet.npz`` beside them and falls back to Keras). Needs TensorFlow, tf2onnx, onnx, onnxruntime.
Command: ``artrestore train export-onnx --clean ../shared/data/clean``.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import pathlib
import shutil
import tempfile

import numpy as np

from artrestore import _modelfile, dl
from artrestore.dl import onnx_runtime as onnx_unet
from artrestore.training.onnx_data import (
    CALIBRATION_CROPS,
    _broad_damage,
    _default_damage,
    calibration_inputs,
    every_family_damage,
    fp32_difference,
    keras_restore,
    split_settings,
    validate,
    validation_pairs,
)

log = logging.getLogger(__name__)

OPSET = 17
MAX_FP32_DIFF = 1e-3      # the fp32 graph must match Keras to this (max abs, images in [0, 1])
MAX_PSNR_LOSS_DB = 0.1    # int8 becomes the default only within this of Keras' validation PSNR
# Activation ranges: the 99.999th percentile of each tensor over the calibration crops. Measured on
# 12 validation pairs against the fp32 graph's 25.213 dB: percentile 25.187 dB, min-max 25.097 dB,
# entropy 25.097 dB (a few extreme activations stretch min-max ranges and coarsen every step).
CALIBRATION_PERCENTILE = 99.999
# Quantized in int8: the convolutions and the ops between them (so tensors stay int8 from one
# conv to the next). Left float32: the context branch's dense layers and the colour transform
# (MatMul / Mul / Add on the full-resolution input), the head and the residual add.
QUANTIZED_OPS = ["Conv", "ConvTranspose", "MaxPool", "Concat", "Relu"]


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------

def _serving_function(model, config):
    """The SavedModel's serving signature as a tf.function: inputs named as there, output clipped."""
    import tensorflow as tf

    image = tf.TensorSpec([None, None, None, 3], tf.float32, name=dl.SIGNATURE_INPUT)
    if config.global_context:
        context = tf.TensorSpec([None, dl.CONTEXT, dl.CONTEXT, 3], tf.float32, name=dl.SIGNATURE_CONTEXT)

        @tf.function(input_signature=[image, context])
        def serve(image, context):
            out = model({"image": image, "context": context}, training=False)
            return {dl.SIGNATURE_OUTPUT: tf.clip_by_value(out, 0.0, 1.0)}

        return serve, [image, context]

    @tf.function(input_signature=[image])
    def serve_plain(image):
        return {dl.SIGNATURE_OUTPUT: tf.clip_by_value(model(image, training=False), 0.0, 1.0)}

    return serve_plain, [image]


def convert(model, config):
    """The Keras model as an fp32 ONNX ModelProto (tf2onnx)."""
    import tf2onnx

    # tf2onnx still reads a few aliases NumPy 2 removed; Keras ships the shim it uses itself.
    from keras.src.export.tf2onnx_lib import patch_tf2onnx

    patch_tf2onnx()
    function, signature = _serving_function(model, config)
    proto, _ = tf2onnx.convert.from_function(function, signature, opset=OPSET)
    return proto


def gflop_per_tile(model, config, tile: int = dl.TILE) -> float:
    """Floating-point operations of one tile x tile forward pass (TensorFlow's own count of the
    traced graph: 2 per multiply-add; the context branch included)."""
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    specs = [tf.TensorSpec([1, tile, tile, 3], tf.float32)]
    if config.global_context:
        specs.append(tf.TensorSpec([1, dl.CONTEXT, dl.CONTEXT, 3], tf.float32))
    # Static shapes, so every op's count is known.
    forward = tf.function(lambda *x: model({"image": x[0], "context": x[1]} if config.global_context else x[0],
                                           training=False), input_signature=specs)
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return model_analyzer.profile(forward.get_concrete_function().graph, options=options).total_float_ops / 1e9


def store_weights_as_float16(proto) -> int:
    """Replace every float32 initializer that float16 holds exactly by a float16 one plus a Cast
    (folded by ONNX Runtime at load); returns how many were replaced."""
    import onnx
    from onnx import helper, numpy_helper

    graph = proto.graph
    kept, casts, replaced = [], [], 0
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if init.data_type == onnx.TensorProto.FLOAT and array.size >= 16 and np.array_equal(
                array.astype(np.float16).astype(np.float32), array):
            kept.append(numpy_helper.from_array(array.astype(np.float16), init.name + "__f16"))
            casts.append(helper.make_node("Cast", [init.name + "__f16"], [init.name], to=onnx.TensorProto.FLOAT,
                                          name=init.name + "__cast"))
            replaced += 1
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return replaced


def quantize_int8(fp32_path: pathlib.Path, out_path: pathlib.Path, feeds: list[dict]) -> dict:
    """Static QDQ int8 quantization of an fp32 graph calibrated on ``feeds``; returns its settings."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._feeds = iter(feeds)

        def get_next(self):
            return next(self._feeds, None)

    graph = onnx.load(str(fp32_path)).graph
    convs = [n.name for n in graph.node if n.op_type == "Conv"]
    # The head (last conv) writes the correction added to the input: quantizing it would put a
    # uint8 step on every output pixel. It and everything after it stay float32.
    head_index = max(i for i, n in enumerate(graph.node) if n.op_type == "Conv")
    excluded = [n.name for n in graph.node[head_index:]]
    settings = {"format": "QDQ", "weights": "int8 per channel", "activations": "uint8",
                "calibration": f"percentile {CALIBRATION_PERCENTILE}", "op_types": QUANTIZED_OPS, "excluded_nodes": excluded,
                "calibration_crops": len(feeds), "quantized_convs": len(convs) - 1}
    quantize_static(str(fp32_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.Percentile, op_types_to_quantize=QUANTIZED_OPS,
                    nodes_to_exclude=excluded, extra_options={"CalibPercentile": CALIBRATION_PERCENTILE})
    return settings


# --------------------------------------------------------------------------------------------
# Checks against Keras
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# The export
# --------------------------------------------------------------------------------------------

def export_onnx(model_dir=None, out_dir=None, *, clean_dir, int8: bool = True,
                calibration_crops: int = CALIBRATION_CROPS, val_limit: int | None = None, seed: int = 0,
                split_seed: int | None = None, image_size: int | None = None, damage=None,
                calibrate_on: str = "every") -> dict:
    """Export ``model_dir``'s U-Net (default: bundled) to ``out_dir`` (default: beside the weights):
    fp32 graph, int8 graph (unless ``int8=False``), metadata. ``clean_dir``: the clean images the
    model was trained on (calibration crops from its training split, validation pairs from its
    validation split; ``val_limit`` caps the pairs; ``split_seed`` / ``image_size``: the training's,
    when its metadata does not record them; ``damage(clean, severity, seed)`` -> damaged uint8: the
    damage model it was trained on, default ``data.synthesize_damage``). ``calibrate_on``: ``every`` (int8
    calibration crops damaged by each training family in turn, ``every_family_damage``; since 2026-12-07)
    or ``training`` (by ``damage`` only). Returns the metadata written. Raises ValueError if the fp32
    graph differs from Keras by more than ``MAX_FP32_DIFF``."""
    import keras
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    if calibrate_on not in ("every", "training"):
        raise ValueError(f"calibrate_on must be 'every' or 'training', got {calibrate_on!r}")
    model_dir = pathlib.Path(model_dir) if model_dir is not None else dl.BUNDLED_UNET
    out_dir = pathlib.Path(out_dir) if out_dir is not None else model_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    model, config, meta = dl.load_model(model_dir)
    meta = {**meta, "data": {**meta.get("data", {}), **split_settings(meta, split_seed, image_size)}}
    if damage is None and str(meta.get("damage_model", "")).startswith("broad"):
        damage = _broad_damage  # calibrate and validate on the damage model the U-Net was trained on
    pairs = validation_pairs(clean_dir, meta, val_limit, damage=damage)
    # Every seen damage family, not only the training one: int8's clipped activation ranges fail
    # first on damage unlike the calibration crops (measured: -0.02 dB on the broad family, -1.0 dB
    # on the legacy synthesizer's pairs), so the choice must hold on each.
    other_pairs = {} if (damage or _default_damage) is _default_damage else {
        "legacy": validation_pairs(clean_dir, meta, val_limit, damage=_default_damage)}
    proto = convert(model, config)

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".onnx-export-") as tmp:
        tmp = pathlib.Path(tmp)
        fp32_full = tmp / "full_fp32.onnx"
        onnx.save(proto, str(fp32_full))
        graphs = {}
        if int8:
            log.info("calibrating int8 on %d training crops", calibration_crops)
            calibration_damage = every_family_damage if calibrate_on == "every" else damage
            settings = quantize_int8(fp32_full, tmp / onnx_unet.GRAPH_FILES["int8"],
                                     calibration_inputs(clean_dir, meta, calibration_crops, seed, calibration_damage))
            settings["calibration_damage"] = calibrate_on
            graphs["int8"] = {"quantization": settings}
        replaced = store_weights_as_float16(proto)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp / onnx_unet.GRAPH_FILES["fp32"]))
        graphs["fp32"] = {"weights": f"float16 storage of {replaced} tensors, cast to float32 at load (exact)"}
        for precision, entry in graphs.items():
            path = tmp / onnx_unet.GRAPH_FILES[precision]
            entry.update(file=path.name, sha256=_modelfile.sha256(path), bytes=path.stat().st_size)

        new_meta = {
            "format": onnx_unet.ONNX_FORMAT,
            "source_weights_sha256": _modelfile.sha256(model_dir / "unet.npz"),
            "source_commit": meta.get("commit"),
            "split": {**split_settings(meta), "clean_dir": pathlib.Path(clean_dir).name,
                      "calibration": "train sources", "validation": "val sources",
                      "damage": getattr(damage or _default_damage, "__name__", "custom")},
            "architecture": meta.get("architecture"),
            "global_context": bool(config.global_context),
            "opset": OPSET,
            "inputs": {dl.SIGNATURE_INPUT: "float32 [N, H, W, 3] in [0, 1], H and W multiples of 16",
                       **({dl.SIGNATURE_CONTEXT: "float32 [N, 128, 128, 3]: dl.make_context of the whole image"}
                          if config.global_context else {})},
            "outputs": {dl.SIGNATURE_OUTPUT: "float32 [N, H, W, 3] clipped to [0, 1]"},
            "graphs": graphs,
            "gflop_per_256_tile": round(gflop_per_tile(model, config), 3),
            "tools": {"tensorflow": tf.__version__, "keras": keras.__version__, "tf2onnx": tf2onnx.__version__,
                      "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
            "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / onnx_unet.ONNX_METADATA).write_text(json.dumps(new_meta, indent=2, sort_keys=True) + "\n")
        # unet.npz beside the graphs in the scratch folder, so the runtime's own checks load them.
        shutil.copyfile(model_dir / "unet.npz", tmp / "unet.npz")
        fp32 = onnx_unet.OnnxUNetRestorer(tmp, precision="fp32")
        difference = fp32_difference(model, config, fp32, pairs)
        if difference > MAX_FP32_DIFF:
            raise ValueError(f"the fp32 ONNX graph differs from Keras by {difference:.2e} (> {MAX_FP32_DIFF})")
        restorers = {"keras_fp32": keras_restore(model, config), "onnx_fp32": fp32.restore}
        if int8:
            restorers["onnx_int8"] = onnx_unet.OnnxUNetRestorer(tmp, precision="int8").restore
        log.info("validating on %d pairs (+ %d of other seen families)", len(pairs),
                 sum(len(v) for v in other_pairs.values()))
        scores = validate(restorers, pairs)
        other_scores = {family: validate(restorers, family_pairs) for family, family_pairs in other_pairs.items()}
        losses = {family: s["keras_fp32"]["all"]["psnr"] - s.get("onnx_int8", {}).get("all", {}).get("psnr", -np.inf)
                  for family, s in {"training": scores, **other_scores}.items()}
        loss = max(losses.values())
        new_meta.update(
            fp32_max_abs_diff_vs_keras=difference, validation=scores, validation_other_families=other_scores,
            default_precision="int8" if int8 and loss <= MAX_PSNR_LOSS_DB else "fp32",
            chosen_by=f"int8 when its validation PSNR is within {MAX_PSNR_LOSS_DB} dB of Keras' on every seen "
                      f"damage family (measured loss: " + ", ".join(f"{f} {v:+.3f} dB" for f, v in losses.items())
                      + ")" if int8 else "fp32 only exported")
        (tmp / onnx_unet.ONNX_METADATA).write_text(json.dumps(new_meta, indent=2, sort_keys=True) + "\n")
        # Graphs first, metadata last: an interrupted export leaves hashes that refuse the new
        # graphs (the runtime then falls back to Keras), never a mismatched pair that loads.
        for name in [*(onnx_unet.GRAPH_FILES[p] for p in graphs), onnx_unet.ONNX_METADATA]:
            os.replace(tmp / name, out_dir / name)
    stale = [p for p in onnx_unet.GRAPH_FILES if p not in graphs and (out_dir / onnx_unet.GRAPH_FILES[p]).exists()]
    for precision in stale:
        (out_dir / onnx_unet.GRAPH_FILES[precision]).unlink()
    return new_meta
