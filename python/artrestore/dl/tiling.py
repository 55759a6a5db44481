"""Tiled inference, pure NumPy (and OpenCV for the thumbnail): any image size through a model that
takes fixed tiles.

``tiled_predict``: H x W x 3 float32 -> the same, by running ``predict_batch`` over overlapping
TILE x TILE tiles (fixed batch shape) and blending them with a smooth window. ``tiled_restore``
adds the whole-image CONTEXT^2 thumbnail (``make_context``) for global-context models. The one
path for in-process inference, gRPC inference and validation during training; it never imports
Keras or TensorFlow.
"""
from __future__ import annotations

import numpy as np

from artrestore.dl.contract import CONTEXT, OVERLAP, TILE

__all__ = ["make_context", "per_tile", "blend_window", "tiled_predict", "tiled_restore"]


def make_context(image: np.ndarray) -> np.ndarray:
    """The global branch's input: an H x W x 3 float32 image in [0, 1] shrunk (area average) to
    CONTEXT x CONTEXT x 3, whatever its aspect ratio."""
    import cv2

    return cv2.resize(np.ascontiguousarray(image, np.float32), (CONTEXT, CONTEXT), interpolation=cv2.INTER_AREA)


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
    ramp = np.ones(tile, np.float32)
    if overlap > 0:
        t = (np.arange(overlap) + 0.5) / overlap
        ramp[:overlap] = 0.5 - 0.5 * np.cos(np.pi * t)
        ramp[-overlap:] = ramp[:overlap][::-1]
    return np.outer(ramp, ramp)[:, :, None]


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
