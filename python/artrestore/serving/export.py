"""Export a U-Net model folder for TensorFlow Serving: ``<base>/<model_name>/<version>/`` with
saved_model.pb + variables/ and ``assets.extra/tf_serving_warmup_requests`` (a TFRecord of
PredictionLog records, one Predict per common tile batch size, so the first real request does not
pay for graph compilation). The ``serving_default`` signature: float32 ``image`` [N, H, W, 3] in
[0, 1] (H, W multiples of 2**depth) -> float32 ``restored`` [N, H, W, 3] clipped to [0, 1]; a
global-context model also takes float32 ``context`` [N, 128, 128, 3], for each tile
``make_context`` of its whole image. ``serving_fp16`` (``dl.contract.REDUCED_SIGNATURES``): the
same inputs and outputs computed in float16 (float32 weights, in and out) for GPUs, where it ran
1.8x the float32 tile rate within 0.01 dB (``benchmarks/results/unet_gpu_h200.json``); a client
picks it with ``signature_name``. For each of them and each count in ``dl.contract.SERVED_VIEWS``,
``<signature>_x<n>`` (``views_signature``): the same inputs and output, the mean of the n
dihedral views of each tile and its thumbnail (``dl.ensemble.TRANSFORMS``), each clipped and
turned back in the graph; the self-ensemble then costs the client one copy of the tiles, not n.
The version folder is published complete, in one rename.
Needs TensorFlow (the ``dl`` extra).
"""
from __future__ import annotations

import pathlib
import shutil

import numpy as np

from artrestore._proto.tensorflow_serving.apis import prediction_log_pb2
from artrestore.dl.arch import build_unet, import_keras
from artrestore.dl.contract import (
    COMPUTE_PRECISIONS,
    CONTEXT,
    CONTEXT_KEY,
    INPUT_KEY,
    MODEL_NAME,
    OUTPUT_KEY,
    REDUCED_SIGNATURES,
    SERVED_VIEWS,
    SIGNATURE_NAME,
    TILE,
    views_signature,
)
from artrestore.dl.ensemble import DEFAULT_VIEWS, TRANSFORMS
from artrestore.dl.weights import load_model
from artrestore.serving.tensors import to_tensor_proto

__all__ = ["WARMUP_TILES", "REDUCED_PRECISION", "export_for_serving", "export_saved_model"]

WARMUP_TILES = (1, 8)  # tile batch sizes of the warm-up requests
REDUCED_PRECISION = next(iter(REDUCED_SIGNATURES))  # fp16: the second signature's compute precision


def export_for_serving(unet_dir, base_path, *, model_name: str = MODEL_NAME, version: int = 1,
                       overwrite: bool = False) -> pathlib.Path:
    """Write the version folder (see the module docstring) and return its path; FileExistsError
    when it exists and ``overwrite`` is false. ``unet_dir`` None: the bundled U-Net."""
    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("export needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    model, config, _ = load_model(unet_dir)
    target = pathlib.Path(base_path) / model_name / str(int(version))
    if target.exists():
        if not overwrite:
            raise FileExistsError(f"{target} already exists (pass overwrite=True to replace it)")
        shutil.rmtree(target)
    archive = keras.export.ExportArchive()
    # The reduced-precision variant: the same weights in a model built with a mixed policy
    # (fp16 compute, float32 in and out), as a second signature of the same version.
    reduced = build_unet(config, dtype_policy=COMPUTE_PRECISIONS[REDUCED_PRECISION])
    reduced.set_weights(model.get_weights())
    for name, variant in ((SIGNATURE_NAME, model), (REDUCED_SIGNATURES[REDUCED_PRECISION], reduced)):
        _add_endpoint(archive, name, variant, config.global_context)
        for views in SERVED_VIEWS:
            _add_endpoint(archive, views_signature(name, views), variant, config.global_context, views)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(str(tmp), verbose=False)
    (tmp / "assets.extra").mkdir(exist_ok=True)
    _write_warmup(tmp / "assets.extra" / "tf_serving_warmup_requests", model_name, config.global_context)
    # TF Serving loads a version folder as soon as it appears: publish it complete, in one rename.
    tmp.rename(target)
    return target


def _add_endpoint(archive, name: str, model, global_context: bool, views: int = 1) -> None:
    """One serving signature: ``image`` (and ``context``) float32 in, ``restored`` clipped to [0, 1]
    out; with ``views`` > 1, the mean over that many dihedral views (``_view_mean``)."""
    import tensorflow as tf

    archive.track(model)

    def restored(image, context=None):
        inputs = image if context is None else {INPUT_KEY: image, CONTEXT_KEY: context}
        return tf.clip_by_value(tf.cast(model(inputs, training=False), tf.float32), 0.0, 1.0)

    def run(image, context=None):
        return {OUTPUT_KEY: restored(image, context) if views == 1 else _view_mean(restored, image, context, views)}

    image_spec = tf.TensorSpec([None, None, None, 3], tf.float32, name=INPUT_KEY)
    if global_context:
        archive.add_endpoint(name=name, fn=lambda image, context: run(image, context),
                             input_signature=[image_spec, tf.TensorSpec([None, CONTEXT, CONTEXT, 3], tf.float32,
                                                                        name=CONTEXT_KEY)])
    else:
        archive.add_endpoint(name=name, fn=lambda image: run(image), input_signature=[image_spec])


def _view_mean(restored, image, context, views: int):
    """The mean of ``restored`` over the first ``views`` of ``TRANSFORMS``, each output turned back.
    Views whose quarter turns share a parity keep one shape, so they go through the model as one
    batch (two batches for eight views, one for two)."""
    import tensorflow as tf

    def turn(x, turns, mirror):  # NHWC: as dl.ensemble.forward
        x = tf.image.rot90(x, turns) if turns else x
        return tf.reverse(x, axis=[2]) if mirror else x

    def turn_back(x, turns, mirror):  # as dl.ensemble.inverse
        x = tf.reverse(x, axis=[2]) if mirror else x
        return tf.image.rot90(x, 4 - turns) if turns else x

    total = 0.0
    for parity in (0, 1):
        group = [t for t in TRANSFORMS[:views] if t[0] % 2 == parity]
        if not group:
            continue
        batch = tf.concat([turn(image, *t) for t in group], axis=0)
        thumbs = None if context is None else tf.concat([turn(context, *t) for t in group], axis=0)
        for out, t in zip(tf.split(restored(batch, thumbs), len(group), axis=0), group):
            total += turn_back(out, *t)
    return total / views


# The former two export paths (plain SavedModel, SavedModel + warm-up) are one now.
export_saved_model = export_for_serving


def _write_warmup(path: pathlib.Path, model_name: str, wants_context: bool) -> None:
    import tensorflow as tf

    # The plain signature at each warm-up batch size, and the served profile's default, eight views.
    plans = [(SIGNATURE_NAME, n) for n in WARMUP_TILES] + [(views_signature(SIGNATURE_NAME, DEFAULT_VIEWS["accelerated"]), 1)]
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, n in plans:
            entry = prediction_log_pb2.PredictionLog()
            request = entry.predict_log.request
            request.model_spec.name = model_name
            request.model_spec.signature_name = signature
            request.inputs[INPUT_KEY].CopyFrom(to_tensor_proto(np.full((n, TILE, TILE, 3), 0.5, np.float32)))
            if wants_context:
                request.inputs[CONTEXT_KEY].CopyFrom(to_tensor_proto(np.full((n, CONTEXT, CONTEXT, 3), 0.5, np.float32)))
            writer.write(entry.SerializeToString())
