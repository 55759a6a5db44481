"""In-process U-Net inference (the embedded default): RGB uint8 H x W x 3 in, restored RGB uint8
of the same size out, through the tiled blender of ``dl.tiling``.

``UNetRestorer`` is safe to share between threads: it serialises its own model calls (one Keras
model, one caller at a time; batching happens inside a call), so callers need no lock.
"""
from __future__ import annotations

import threading

import numpy as np

from artrestore._validate import to_uint8
from artrestore.dl.arch import import_keras, model_inputs
from artrestore.dl.tiling import tiled_restore
from artrestore.dl.weights import load_model

__all__ = ["UNetRestorer"]


class UNetRestorer:
    """In-process U-Net inference: RGB uint8 in, RGB uint8 out."""

    def __init__(self, model_dir=None, *, batch_size: int = 8):
        keras = import_keras()
        self.model, self.config, self.metadata = load_model(model_dir)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        model = self.model
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            self._predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        else:
            self._predict = lambda x: model(x, training=False)

    def predict_tiles(self, tiles: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """N x H x W x 3 float32 in [0, 1] (plus, for a global-context model, the whole image's
        CONTEXT^2 thumbnail from ``make_context``) -> restored tiles clipped to [0, 1], exactly
        what the exported ``serving_default`` signature returns."""
        inputs = model_inputs(self.config, tiles, context)
        with self._lock:
            predicted = np.asarray(self._predict(inputs))
        return np.clip(predicted, 0.0, 1.0)

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """H x W x 3 float32 in [0, 1] -> restored float32 (tiled, blended)."""
        return tiled_restore(image, self.predict_tiles, global_context=self.config.global_context,
                             batch_size=self.batch_size)

    def restore(self, image: np.ndarray) -> np.ndarray:
        return to_uint8(self.restore_float(image.astype(np.float32) / 255.0))
