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

Tiling for the CPU: an image up to ``max_tile_pixels`` (default about 1.2 megapixels) runs as one
fully convolutional pass (no overlap to pay for, no seams); a larger one is cut into as few
rectangular tiles as fit that budget, overlapping by at least ``OVERLAP`` px and blended with the
raised-cosine window of ``dl.blend_window``. Every tile sees the thumbnail of the whole image.

``make_unet_restorer`` is the switch the restorer uses: ``runtime="auto"`` takes ONNX Runtime when
the graphs are there and current, and otherwise logs a warning and falls back to the Keras model
(``dl.UNetRestorer``), e.g. after a retrain whose graphs were not exported again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pathlib

import numpy as np

from artrestore import _modelfile
from artrestore._validate import to_uint8
from artrestore.dl.contract import BUNDLED_UNET, CONTEXT_KEY, INPUT_KEY, OVERLAP
from artrestore.dl.tiling import make_context

log = logging.getLogger(__name__)

ONNX_FORMAT = "artrestore-unet-onnx/1"
ONNX_METADATA = "onnx_metadata.json"
GRAPH_FILES = {"fp32": "unet_fp32.onnx", "int8": "unet_int8.onnx"}
PRECISIONS = ("auto", *GRAPH_FILES)
RUNTIMES = ("auto", "onnx", "keras")
MULTIPLE = 16                    # the U-Net's 4 poolings: sides must be multiples of 2**4
MAX_TILE_PIXELS = 1280 * 960     # one pass up to here: ~1.2 GB peak at fp32, less at int8
# Environment defaults for callers that cannot pass arguments (the CLI until it grows options).
RUNTIME_ENV = "ARTRESTORE_UNET_RUNTIME"
PRECISION_ENV = "ARTRESTORE_UNET_PRECISION"


class StaleOnnxModel(ValueError):
    """The exported graphs were made from other weights than the ``unet.npz`` beside them."""


def read_onnx_metadata(folder) -> dict:
    """``onnx_metadata.json`` of a U-Net folder, or FileNotFoundError / ValueError naming it."""
    path = pathlib.Path(folder) / ONNX_METADATA
    if not path.is_file():
        raise FileNotFoundError(f"U-Net ONNX: {path} not found (export it: training.export_onnx.export_onnx)")
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"U-Net ONNX: {path} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != ONNX_FORMAT:
        raise ValueError(f"U-Net ONNX: {path} is not an {ONNX_FORMAT} file")
    return meta


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
# Tiling for the CPU
# --------------------------------------------------------------------------------------------

def _round_up(value: int, multiple: int = MULTIPLE) -> int:
    return -(-value // multiple) * multiple


def plan_axis(length: int, max_len: int, overlap: int = OVERLAP) -> tuple[int, list[int]]:
    """(tile length, starts) covering ``length`` px with the fewest tiles of at most ``max_len``
    (a multiple of 16) overlapping by at least ``overlap``; one tile (padded up to a multiple of
    16) when the whole axis fits."""
    if max_len % MULTIPLE or max_len <= overlap:
        raise ValueError(f"tile length must be a multiple of {MULTIPLE} above the overlap, got {max_len}")
    if _round_up(length) <= max_len:
        return _round_up(length), [0]
    count = math.ceil((length - overlap) / (max_len - overlap))
    tile = min(max_len, _round_up(math.ceil((length - overlap) / count) + overlap))
    starts = np.linspace(0, length - tile, count).round().astype(int).tolist()
    return tile, starts


def plan_tiles(height: int, width: int, max_pixels: int = MAX_TILE_PIXELS, overlap: int = OVERLAP):
    """((tile height, tile width), row starts, column starts) for an image: one pass when it fits
    ``max_pixels`` after padding to multiples of 16, else near-square tiles of at most that size."""
    if _round_up(height) * _round_up(width) <= max_pixels:
        return (_round_up(height), _round_up(width)), [0], [0]
    side = max(_round_up(2 * overlap + 1), int(math.sqrt(max_pixels)) // MULTIPLE * MULTIPLE)
    # A thin image keeps its short side whole and spends the rest of the budget along the long one.
    max_h = min(_round_up(height), max(side, max_pixels // _round_up(width) // MULTIPLE * MULTIPLE))
    max_w = max(_round_up(2 * overlap + 1), max_pixels // max_h // MULTIPLE * MULTIPLE)
    tile_h, rows = plan_axis(height, max_h, overlap)
    tile_w, cols = plan_axis(width, max_w, overlap)
    return (tile_h, tile_w), rows, cols


def _ramp(length: int, overlap: int) -> np.ndarray:
    # The raised-cosine ramp of dl.blend_window, one axis at a time (tiles here are rectangular).
    ramp = np.ones(length, np.float32)
    if overlap > 0:
        t = (np.arange(overlap) + 0.5) / overlap
        ramp[:overlap] = 0.5 - 0.5 * np.cos(np.pi * t)
        ramp[-overlap:] = ramp[:overlap][::-1]
    return ramp


def tiled_run(image: np.ndarray, predict, *, max_pixels: int = MAX_TILE_PIXELS, overlap: int = OVERLAP) -> np.ndarray:
    """Run ``predict`` (1 x h x w x 3 float32 -> same, h and w multiples of 16) over the tiles of
    ``plan_tiles`` of an H x W x 3 float32 image and blend them; the image is mirror-padded to the
    tiles' multiple-of-16 extent and the result cropped back."""
    h, w = image.shape[:2]
    (tile_h, tile_w), rows, cols = plan_tiles(h, w, max_pixels, overlap)
    full_h, full_w = max(h, rows[-1] + tile_h), max(w, cols[-1] + tile_w)
    mode = "reflect" if min(h, w) > 1 and full_h - h < h and full_w - w < w else "edge"
    padded = np.pad(image, ((0, full_h - h), (0, full_w - w), (0, 0)), mode=mode)
    if len(rows) == len(cols) == 1:
        return _checked(predict(padded[None]), (1, full_h, full_w, 3))[0, :h, :w]
    window = np.outer(_ramp(tile_h, overlap), _ramp(tile_w, overlap))[:, :, None]
    out = np.zeros((full_h, full_w, 3), np.float32)
    weight = np.zeros((full_h, full_w, 1), np.float32)
    for y in rows:
        for x in cols:
            tile = np.ascontiguousarray(padded[None, y:y + tile_h, x:x + tile_w])
            out[y:y + tile_h, x:x + tile_w] += _checked(predict(tile), tile.shape)[0] * window
            weight[y:y + tile_h, x:x + tile_w] += window
    return (out / weight)[:h, :w]


def _checked(result, shape) -> np.ndarray:
    result = np.asarray(result, np.float32)
    if result.shape != tuple(shape):
        raise ValueError(f"model returned {result.shape} for tiles of {tuple(shape)}")
    return result


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
    """The in-process U-Net: ``runtime`` ``auto`` (ONNX Runtime if its graphs are there and current,
    else Keras with a logged warning), ``onnx`` (errors instead of falling back) or ``keras``;
    default from ``ARTRESTORE_UNET_RUNTIME``, else ``auto``."""
    runtime = runtime or os.environ.get(RUNTIME_ENV) or "auto"
    if runtime not in RUNTIMES:
        raise ValueError(f"U-Net runtime must be one of {RUNTIMES}, got {runtime!r}")
    if (precision or os.environ.get(PRECISION_ENV) or "auto") not in PRECISIONS:
        raise ValueError(f"U-Net precision must be one of {PRECISIONS}, got {precision!r}")
    if runtime != "keras":
        try:
            return OnnxUNetRestorer(model_dir, precision=precision)
        except (ImportError, FileNotFoundError, ValueError) as error:
            if runtime == "onnx":
                raise
            log.warning("U-Net: ONNX Runtime path unavailable (%s); falling back to Keras/TensorFlow", error)
    from artrestore.dl.inference import UNetRestorer

    return UNetRestorer(model_dir)


__all__ = ["OnnxUNetRestorer", "ort_session", "read_graph", "StaleOnnxModel", "make_unet_restorer", "plan_tiles",
           "plan_axis", "tiled_run", "read_onnx_metadata", "GRAPH_FILES", "ONNX_FORMAT", "ONNX_METADATA", "PRECISIONS",
           "RUNTIMES"]
