"""The in-process U-Net on ONNX Runtime: inference only, no TensorFlow or Keras import.

Input: RGB uint8 H x W x 3 (``restore``) or float32 in [0, 1] (``restore_float``); output the same
shape and type, restored. The model folder (the U-Net's, default the bundled one) holds, beside
``unet.npz``, the exported graphs ``unet_fp32.onnx`` and ``unet_int8.onnx`` and their
``onnx_metadata.json`` (format tag, SHA-256 of each graph, SHA-256 of the ``unet.npz`` they were
exported from, validation PSNR of each precision, the precision chosen by that measurement).
``training/export_onnx.py`` writes them. A graph is read as bytes, checked against its SHA-256 and
handed to ONNX Runtime from memory: it interprets the operators with its own kernels, no custom-op
library is registered and no external data file can be
resolved, so loading executes nothing from the file.

Tiling: an image up to ``max_tile_pixels`` (default ``dl.tiling.MAX_PASS_PIXELS``, about 1.2
megapixels) runs as one fully convolutional pass; a larger one goes through ``dl.tiling.tiled_run``
(as few large blended tiles as fit the budget). Every tile sees the thumbnail of the whole image.

``make_unet_restorer`` is the switch the restorer uses: ``runtime="auto"`` takes ONNX Runtime when
the graphs are there and current, and otherwise logs a warning and falls back to the Keras model
(``dl.UNetRestorer``), e.g. after a retrain whose graphs were not exported again.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pathlib

import numpy as np

from artrestore import _modelfile
from artrestore._validate import to_uint8
from artrestore.dl.contract import BUNDLED_UNET, CONTEXT_KEY, INPUT_KEY
from artrestore.dl.tiling import MAX_PASS_PIXELS, make_context, plan_axis, plan_tiles, tiled_run

log = logging.getLogger(__name__)

ONNX_FORMAT = "artrestore-unet-onnx/1"
ONNX_METADATA = "onnx_metadata.json"
GRAPH_FILES = {"fp32": "unet_fp32.onnx", "int8": "unet_int8.onnx"}
PRECISIONS = ("auto", *GRAPH_FILES)
RUNTIMES = ("auto", "onnx", "keras")
MAX_TILE_PIXELS = MAX_PASS_PIXELS  # one pass up to here on the CPU (dl.tiling)
# Environment defaults for callers that cannot pass arguments (the CLI until it grows options).
RUNTIME_ENV = "ARTRESTORE_UNET_RUNTIME"
PRECISION_ENV = "ARTRESTORE_UNET_PRECISION"


class StaleOnnxModel(ValueError):
    """The exported graphs were made from other weights than the ``unet.npz`` beside them."""


def read_onnx_metadata(folder) -> dict:
    """``onnx_metadata.json`` of a U-Net folder, or FileNotFoundError / ValueError naming it."""
    return _modelfile.read_metadata(folder, ONNX_FORMAT, "U-Net ONNX", filename=ONNX_METADATA,
                                    missing_hint="export it: training.export_onnx.export_onnx")


def check_current(folder, meta: dict) -> None:
    """StaleOnnxModel unless the graphs' source weights are the folder's ``unet.npz``."""
    weights = pathlib.Path(folder) / "unet.npz"
    if not weights.is_file():
        raise FileNotFoundError(f"U-Net ONNX: {weights} not found")
    if meta.get("source_weights_sha256") != _modelfile.sha256(weights):
        raise StaleOnnxModel(f"U-Net ONNX: the graphs in {folder} were exported from other weights than its "
                             f"unet.npz (re-run the export after training)")


def resolve_precision(precision: str | None, meta: dict) -> str:
    precision = precision or os.environ.get(PRECISION_ENV) or "auto"
    if precision not in PRECISIONS:
        raise ValueError(f"U-Net precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        precision = meta.get("default_precision", "fp32")
    if precision not in meta.get("graphs", {}):
        raise FileNotFoundError(f"U-Net ONNX: no {precision} graph was exported")
    return precision


def read_graph(folder, precision: str, meta: dict) -> bytes:
    """One exported graph's bytes, checked against the SHA-256 in the metadata."""
    entry = meta["graphs"][precision]
    path = pathlib.Path(folder) / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"U-Net ONNX: {path} not found")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != entry.get("sha256"):
        raise ValueError(f"U-Net ONNX: {path} does not match the SHA-256 in its metadata (tampered or foreign)")
    return blob


def ort_session(blob: bytes, threads: int | None = None):
    """ONNX Runtime session on a graph given as bytes (never a path: no external data, no custom ops)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------------------------
# The restorer
# --------------------------------------------------------------------------------------------

class OnnxUNetRestorer:
    """In-process U-Net inference on ONNX Runtime: RGB uint8 in, RGB uint8 out (``restore``).

    ``precision``: ``auto`` (the one the export chose by validation PSNR), ``fp32`` or ``int8``
    (default from ``ARTRESTORE_UNET_PRECISION``). ``max_tile_pixels``: the one-pass budget.
    ``threads``: ONNX Runtime's intra-op threads (default: one per physical core)."""

    runtime = "onnxruntime"

    def __init__(self, model_dir=None, *, precision: str | None = None, max_tile_pixels: int = MAX_TILE_PIXELS,
                 threads: int | None = None):
        self.model_dir = pathlib.Path(model_dir) if model_dir is not None else BUNDLED_UNET
        self.metadata = read_onnx_metadata(self.model_dir)
        check_current(self.model_dir, self.metadata)
        self.precision = resolve_precision(precision, self.metadata)
        self.global_context = bool(self.metadata.get("global_context"))
        self.max_tile_pixels = int(max_tile_pixels)
        self.session = ort_session(read_graph(self.model_dir, self.precision, self.metadata), threads)
        names = {i.name for i in self.session.get_inputs()}
        if names != ({INPUT_KEY, CONTEXT_KEY} if self.global_context else {INPUT_KEY}):
            raise ValueError(f"U-Net ONNX: unexpected graph inputs {sorted(names)}")

    def predict_tiles(self, tiles: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """N x H x W x 3 float32 in [0, 1] (H, W multiples of 16), plus for a global-context model
        the whole image's thumbnail (``make_context``) -> restored tiles clipped to [0, 1]; the same
        contract as ``dl.UNetRestorer.predict_tiles``."""
        tiles = np.ascontiguousarray(tiles, np.float32)
        feeds = {INPUT_KEY: tiles}
        if self.global_context:
            if context is None:
                raise ValueError("this U-Net needs the whole image's context thumbnail")
            context = np.asarray(context, np.float32)
            feeds[CONTEXT_KEY] = np.ascontiguousarray(
                np.broadcast_to(context.reshape(-1, *context.shape[-3:]), (len(tiles), *context.shape[-3:])))
        return self.session.run(None, feeds)[0]

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """H x W x 3 float32 in [0, 1] -> restored float32 (one pass, or large blended tiles)."""
        image = np.asarray(image, np.float32)
        context = make_context(image) if self.global_context else None
        return tiled_run(image, lambda tile: self.predict_tiles(tile, context), max_pixels=self.max_tile_pixels)

    def restore(self, image: np.ndarray) -> np.ndarray:
        return to_uint8(self.restore_float(image.astype(np.float32) / 255.0))


def make_unet_restorer(model_dir=None, *, runtime: str | None = None, precision: str | None = None):
    """The in-process U-Net: ``runtime`` ``auto`` (Keras on a GPU when ``KERAS_BACKEND=jax`` and
    JAX sees one; else ONNX Runtime if its graphs are there and current, else Keras with a logged
    warning), ``onnx`` (errors instead of falling back) or ``keras``; default from
    ``ARTRESTORE_UNET_RUNTIME``, else ``auto``. ``precision``: ONNX's (``auto``, ``fp32``,
    ``int8``) or Keras' (``auto``, ``fp32``, ``bf16``, ``fp16``), default from
    ``ARTRESTORE_UNET_PRECISION``."""
    runtime = runtime or os.environ.get(RUNTIME_ENV) or "auto"
    precision = precision or os.environ.get(PRECISION_ENV) or "auto"
    if runtime not in RUNTIMES:
        raise ValueError(f"U-Net runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "auto" and _gpu_keras():
        runtime = "keras"
    if runtime != "keras":
        if precision not in PRECISIONS:
            raise ValueError(f"U-Net precision must be one of {PRECISIONS} on ONNX Runtime, got {precision!r}")
        try:
            return OnnxUNetRestorer(model_dir, precision=precision)
        except (ImportError, FileNotFoundError, ValueError) as error:
            if runtime == "onnx":
                raise
            log.warning("U-Net: ONNX Runtime path unavailable (%s); falling back to Keras/TensorFlow", error)
    from artrestore.dl.inference import KERAS_PRECISIONS, UNetRestorer

    if precision not in KERAS_PRECISIONS:  # an ONNX-only precision (int8) on the fallback: Keras' default
        precision = "auto"
    return UNetRestorer(model_dir, precision=precision)


def _gpu_keras() -> bool:
    """Keras on JAX with a GPU: the GPU runtime (dl.inference). Imports JAX only when asked for it."""
    if os.environ.get("KERAS_BACKEND") != "jax":
        return False
    from artrestore.dl.inference import jax_on_gpu  # no Keras or TensorFlow import

    try:
        return jax_on_gpu()
    except ImportError:
        return False


__all__ = ["OnnxUNetRestorer", "ort_session", "read_graph", "StaleOnnxModel", "make_unet_restorer", "plan_tiles",
           "plan_axis", "tiled_run", "read_onnx_metadata", "GRAPH_FILES", "ONNX_FORMAT", "ONNX_METADATA", "PRECISIONS",
           "RUNTIMES"]
