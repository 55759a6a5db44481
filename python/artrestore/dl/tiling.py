"""Tiled inference, pure NumPy (and OpenCV for the thumbnail): any image size through a model that
takes fixed tiles.

``tiled_predict``: H x W x 3 float32 -> the same, by running ``predict_batch`` over overlapping
TILE x TILE tiles (fixed batch shape) and blending them with a smooth window. ``tiled_run``: the
same through whole-image passes within a pixel budget (``plan_tiles``): one pass when the image
fits, else as few large rectangular tiles as fit, blended with the same raised-cosine ramps. ``tiled_restore``
adds the whole-image CONTEXT^2 thumbnail (``make_context``) for global-context models. The one
path for in-process inference, gRPC inference and validation during training; it never imports
Keras or TensorFlow.
"""
from __future__ import annotations

import math

import numpy as np

from artrestore.dl.contract import CONTEXT, OVERLAP, TILE

__all__ = ["MULTIPLE", "MAX_PASS_PIXELS", "make_context", "area_weights", "per_tile", "blend_window", "tiled_predict",
           "tiled_restore", "plan_axis", "plan_tiles", "pad_to", "tiled_run"]

MULTIPLE = 16                    # the U-Net's 4 poolings: sides must be multiples of 2**4
MAX_PASS_PIXELS = 1280 * 960     # default one-pass budget (CPU): ~1.2 GB peak at fp32, less at int8


def _ramp(length: int, overlap: int) -> np.ndarray:
    """1-D weight: raised-cosine ramps over ``overlap`` px at both ends, 1 inside, never 0."""
    ramp = np.ones(length, np.float32)
    if overlap > 0:
        t = (np.arange(overlap) + 0.5) / overlap
        ramp[:overlap] = 0.5 - 0.5 * np.cos(np.pi * t)
        ramp[-overlap:] = ramp[:overlap][::-1]
    return ramp


def make_context(image: np.ndarray) -> np.ndarray:
    """The global branch's input: an H x W x 3 float32 image in [0, 1] shrunk (area average) to
    CONTEXT x CONTEXT x 3, whatever its aspect ratio."""
    import cv2

    return cv2.resize(np.ascontiguousarray(image, np.float32), (CONTEXT, CONTEXT), interpolation=cv2.INTER_AREA)


def area_weights(length: int, size: int = CONTEXT, padded: int | None = None) -> np.ndarray:
    """``size`` x ``padded`` float32 matrix M with M @ column = OpenCV's INTER_AREA shrink of a
    ``length``-px column to ``size`` px (the rows past ``length``, up to ``padded``, get weight 0).
    Shrinking only (``length >= size``): lets a device compute ``make_context`` as two matrix
    products, ``M_h @ image @ M_w.T``, without the image leaving it."""
    if length < size:
        raise ValueError(f"area weights shrink only: {length} px to {size}")
    padded = length if padded is None else padded
    scale = length / size
    edges = np.arange(size + 1) * scale
    pixels = np.arange(padded)
    overlap = np.minimum(edges[1:, None], pixels[None, :] + 1) - np.maximum(edges[:-1, None], pixels[None, :])
    weights = np.clip(overlap, 0.0, None) / scale
    weights[:, length:] = 0.0
    return weights.astype(np.float32)


def per_tile(context: np.ndarray, count: int) -> np.ndarray:
    """One thumbnail (CONTEXT x CONTEXT x 3) or one per tile -> ``count`` x CONTEXT x CONTEXT x 3 float32."""
    context = np.asarray(context, np.float32)
    return np.ascontiguousarray(np.broadcast_to(context.reshape(-1, *context.shape[-3:]), (count, *context.shape[-3:])))


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def blend_window(tile: int = TILE, overlap: int = OVERLAP) -> np.ndarray:
    """2-D weight that ramps smoothly (raised cosine) over the overlap and is 1 inside; never 0,
    so border tiles still cover the image edge."""
    return np.outer(_ramp(tile, overlap), _ramp(tile, overlap))[:, :, None]


def tiled_restore(image: np.ndarray, predict_tiles, *, global_context: bool, batch_size: int = 8) -> np.ndarray:
    """H x W x 3 float32 in [0, 1] -> restored float32 through ``tiled_predict``; every batch goes to
    ``predict_tiles(tiles, context)`` with the image's thumbnail (None for a plain U-Net)."""
    context = make_context(image) if global_context else None
    return tiled_predict(image, lambda tiles: predict_tiles(tiles, context), batch_size=batch_size)


def tiled_predict(image: np.ndarray, predict_batch, *, tile: int = TILE, overlap: int = OVERLAP,
                  batch_size: int = 8) -> np.ndarray:
    """Run ``predict_batch`` (N x tile x tile x 3 float32 -> same) over overlapping tiles of an
    H x W x 3 float32 image and blend them; images smaller than a tile are mirror-padded."""
    h, w = image.shape[:2]
    pad_h, pad_w = max(0, tile - h), max(0, tile - w)
    padded = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
    ph, pw = padded.shape[:2]
    stride = tile - overlap
    positions = [(y, x) for y in _starts(ph, tile, stride) for x in _starts(pw, tile, stride)]
    window = blend_window(tile, overlap)
    out = np.zeros((ph, pw, 3), np.float32)
    weight = np.zeros((ph, pw, 1), np.float32)
    batch_size = min(batch_size, len(positions))
    for i in range(0, len(positions), batch_size):
        chunk = positions[i:i + batch_size]
        tiles = np.zeros((batch_size, tile, tile, 3), np.float32)  # fixed shape: one compiled graph
        for k, (y, x) in enumerate(chunk):
            tiles[k] = padded[y:y + tile, x:x + tile]
        restored = np.asarray(predict_batch(tiles), np.float32)
        if restored.shape != tiles.shape:
            raise ValueError(f"model returned {restored.shape} for tiles of {tiles.shape}")
        for (y, x), r in zip(chunk, restored):
            out[y:y + tile, x:x + tile] += r * window
            weight[y:y + tile, x:x + tile] += window
    return (out / weight)[:h, :w]


# Budgeted passes: one pass when the image fits, else as few large rectangular tiles as fit.

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


def plan_tiles(height: int, width: int, max_pixels: int = MAX_PASS_PIXELS, overlap: int = OVERLAP):
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


def pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """An H x W x 3 image padded at the bottom and right to ``height`` x ``width``: mirrored
    (OpenCV's REFLECT_101, NumPy's "reflect") where the image is longer than its padding, else the
    edge repeated; the image itself when nothing is missing."""
    import cv2

    h, w = image.shape[:2]
    if (height, width) == (h, w):
        return image
    border = cv2.BORDER_REFLECT_101 if min(h, w) > 1 and height - h < h and width - w < w else cv2.BORDER_REPLICATE
    return cv2.copyMakeBorder(np.ascontiguousarray(image), 0, height - h, 0, width - w, border)


def tiled_run(image: np.ndarray, predict, *, max_pixels: int = MAX_PASS_PIXELS, overlap: int = OVERLAP,
              batch_size: int = 1) -> np.ndarray:
    """Run ``predict`` (n x h x w x 3 float32 -> same, h and w multiples of 16) over the tiles of
    ``plan_tiles`` of an H x W x 3 image and blend them; the image is mirror-padded to the tiles'
    multiple-of-16 extent and the result cropped back. Tiles (all one shape) go ``batch_size`` at
    a time. The image may be float32 in [0, 1] or uint8: ``predict`` gets it in its own type."""
    h, w = image.shape[:2]
    (tile_h, tile_w), rows, cols = plan_tiles(h, w, max_pixels, overlap)
    full_h, full_w = max(h, rows[-1] + tile_h), max(w, cols[-1] + tile_w)
    padded = pad_to(image, full_h, full_w)
    if len(rows) == len(cols) == 1:
        return _checked(predict(padded[None]), (1, full_h, full_w, 3))[0, :h, :w]
    window = np.outer(_ramp(tile_h, overlap), _ramp(tile_w, overlap))[:, :, None]
    out = np.zeros((full_h, full_w, 3), np.float32)
    weight = np.zeros((full_h, full_w, 1), np.float32)
    positions = [(y, x) for y in rows for x in cols]
    for i in range(0, len(positions), max(1, batch_size)):
        chunk = positions[i:i + max(1, batch_size)]
        tiles = np.stack([padded[y:y + tile_h, x:x + tile_w] for y, x in chunk])
        restored = _checked(predict(tiles), tiles.shape)
        for (y, x), r in zip(chunk, restored):
            out[y:y + tile_h, x:x + tile_w] += r * window
            weight[y:y + tile_h, x:x + tile_w] += window
    return (out / weight)[:h, :w]


def _checked(result, shape) -> np.ndarray:
    result = np.asarray(result, np.float32)
    if result.shape != tuple(shape):
        raise ValueError(f"model returned {result.shape} for tiles of {tuple(shape)}")
    return result
