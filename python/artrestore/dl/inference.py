"""In-process U-Net inference on Keras: RGB uint8 H x W x 3 in, restored RGB uint8 of the same
size out. The runtime for a GPU (JAX backend) and the fallback on a CPU when the ONNX graphs are
stale (TensorFlow backend); ``dl.onnx_runtime`` is the CPU default.

- **Precision** (``precision``): ``fp32``, ``bf16`` or ``fp16`` compute (``dl.contract.
  COMPUTE_PRECISIONS``; float32 weights, inputs and outputs), ``auto`` = ``GPU_PRECISION`` on a
  GPU, ``fp32`` elsewhere.
- **Whole-image passes** (``max_pass_pixels``): an image up to the budget is one fully
  convolutional pass; a larger one goes in as few large blended tiles as fit it
  (``dl.tiling.tiled_run``). On a GPU the default budget comes from the device's memory and the
  compiled pass's own memory analysis (bytes per pixel); elsewhere ``dl.tiling.MAX_PASS_PIXELS``.
- **On-device conversion**: a one-pass image crosses to the GPU as uint8 and comes back as uint8,
  written by the device into pinned host memory; the global-context thumbnail is made there too
  (OpenCV's INTER_AREA as two matrix products, ``dl.tiling.area_weights``), so the host only pads.
- **Batching across images**: concurrent ``restore`` calls (the batch runner's threads) meet in a
  ``dl.batching.Batcher``; passes of one shape run as one batch, up to ``batch_size`` images.

Safe to share between threads; callers need no lock.
"""
from __future__ import annotations

import logging
import os
import pathlib

import numpy as np

from artrestore._validate import to_uint8
from artrestore.dl.arch import import_keras
from artrestore.dl.batching import Batcher
from artrestore.dl.contract import COMPUTE_PRECISIONS, CONTEXT, CONTEXT_KEY, GPU_PRECISION, INPUT_KEY
from artrestore.dl.tiling import MAX_PASS_PIXELS, area_weights, make_context, pad_to, per_tile, plan_tiles, tiled_run
from artrestore.dl.weights import load_model

__all__ = ["UNetRestorer", "KERAS_PRECISIONS", "GPU_MEMORY_FRACTION", "jax_on_gpu"]

log = logging.getLogger(__name__)

KERAS_PRECISIONS = ("auto", *COMPUTE_PRECISIONS)
GPU_MEMORY_FRACTION = 0.5   # of the device's memory, for one batch of passes (the rest: XLA, other jobs)
CACHE_ENV = "ARTRESTORE_JAX_CACHE"
AREA_CACHE_SIZE = 64        # image shapes whose thumbnail weights stay on the device
SHAPE_BUCKET = 64           # px: one-pass shapes on JAX are padded to multiples of this (one compile per bucket)
_AREA_KEY = "area_rows"     # extra inputs of the on-device pass: the thumbnail's area weights
_AREA_COLS_KEY = "area_cols"


class UNetRestorer:
    """In-process U-Net on Keras: ``restore`` (RGB uint8 -> RGB uint8), ``restore_float`` and
    ``predict_tiles`` (float32 in [0, 1])."""

    runtime = "keras"

    def __init__(self, model_dir=None, *, precision: str = "auto", max_pass_pixels: int | None = None,
                 batch_size: int = 8, batch_timeout_ms: float = 0.0):
        keras = import_keras()
        self.backend = keras.backend.backend()
        self.on_gpu = jax_on_gpu() if self.backend == "jax" else False
        if precision not in KERAS_PRECISIONS:
            raise ValueError(f"U-Net precision must be one of {KERAS_PRECISIONS}, got {precision!r}")
        self.precision = (GPU_PRECISION if self.on_gpu else "fp32") if precision == "auto" else precision
        self.model, self.config, self.metadata = load_model(model_dir, dtype_policy=COMPUTE_PRECISIONS[self.precision])
        self.batch_size = max(1, int(batch_size))
        self._forward_to_host = None   # JAX on a GPU: the same call with its result in pinned host memory
        self._forward = self._compile()
        self.max_pass_pixels = int(max_pass_pixels) if max_pass_pixels else self._default_budget()
        # Zero timeout: a batch takes whoever is already waiting, never holds a lone image back.
        self._batcher = Batcher(self._run, self.batch_size, batch_timeout_ms)
        self._area_cache: dict = {}   # (h, padded h, w, padded w) -> area weights on the device

    # -- the compiled model call -------------------------------------------------------------
    def _compile(self):
        model, global_context = self.model, self.config.global_context
        if self.backend == "jax":
            import jax
            import jax.numpy as jnp

            _persistent_cache(jax)

            def forward(inputs: dict, as_uint8: bool):
                image = inputs[INPUT_KEY]
                if image.dtype == jnp.uint8:
                    image = image.astype(jnp.float32) / 255.0
                feeds = {INPUT_KEY: image}
                if global_context:
                    feeds[CONTEXT_KEY] = (jnp.einsum("noh,nhwc,npw->nopc", inputs[_AREA_KEY], image,
                                                     inputs[_AREA_COLS_KEY]) if _AREA_KEY in inputs
                                          else inputs[CONTEXT_KEY])
                out = jnp.clip(model(feeds if global_context else image, training=False), 0.0, 1.0)
                return jnp.clip(jnp.rint(out * 255.0), 0, 255).astype(jnp.uint8) if as_uint8 else out

            if self.on_gpu:
                # The restore path's uint8 result is written straight into pinned host memory:
                # measured on an H200, reading 3 MB back took 1.13 ms from device memory and 0.11 ms
                # from pinned memory (the pageable copy was the public path's largest overhead).
                host = jax.sharding.SingleDeviceSharding(jax.devices()[0], memory_kind="pinned_host")
                self._forward_to_host = jax.jit(forward, static_argnums=1, out_shardings=host)
            return jax.jit(forward, static_argnums=1)
        if self.backend == "tensorflow":
            import tensorflow as tf

            call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        else:
            call = lambda x: model(x, training=False)  # noqa: E731

        def forward(inputs: dict, as_uint8: bool):
            feeds = inputs if global_context else inputs[INPUT_KEY]
            out = np.clip(np.asarray(call(feeds)), 0.0, 1.0)
            return to_uint8(out) if as_uint8 else out

        return forward

    def _run(self, inputs: dict) -> np.ndarray:
        as_uint8 = inputs[INPUT_KEY].dtype == np.uint8
        forward = self._forward_to_host if as_uint8 and self._forward_to_host is not None else self._forward
        return np.asarray(forward(inputs, as_uint8))

    def _default_budget(self) -> int:
        """Pixels per pass: on a GPU, GPU_MEMORY_FRACTION of its memory over ``batch_size`` passes
        at the compiled pass's bytes per pixel; elsewhere MAX_PASS_PIXELS."""
        if not self.on_gpu:
            return MAX_PASS_PIXELS
        try:
            import jax

            limit = jax.devices()[0].memory_stats()["bytes_limit"]
            probe = self._probe_inputs(256, 256)
            analysis = self._forward.lower(probe, True).compile().memory_analysis()
            per_pixel = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
                         + analysis.output_size_in_bytes) / (256 * 256)
        except Exception as error:  # no memory statistics on this device: the CPU budget
            log.warning("U-Net: no GPU memory figures (%s); one-pass budget %d px", error, MAX_PASS_PIXELS)
            return MAX_PASS_PIXELS
        budget = int(GPU_MEMORY_FRACTION * limit / per_pixel / self.batch_size)
        log.info("U-Net on GPU: %.0f bytes/px per pass, budget %d px per pass (%s)", per_pixel, budget, self.precision)
        return max(budget, 256 * 256)

    def _probe_inputs(self, height: int, width: int) -> dict:
        inputs = {INPUT_KEY: np.zeros((1, height, width, 3), np.uint8)}
        if self.config.global_context:
            inputs[_AREA_KEY] = area_weights(height)[None]
            inputs[_AREA_COLS_KEY] = area_weights(width)[None]
        return inputs

    # -- public ------------------------------------------------------------------------------
    def predict_tiles(self, tiles: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """N x H x W x 3 float32 in [0, 1] (plus, for a global-context model, the whole image's
        CONTEXT^2 thumbnail from ``make_context``) -> restored tiles clipped to [0, 1], exactly
        what the exported ``serving_default`` signature returns."""
        inputs = {INPUT_KEY: np.ascontiguousarray(tiles, np.float32)}
        if self.config.global_context:
            if context is None:
                raise ValueError("this U-Net needs the whole image's context thumbnail")
            inputs[CONTEXT_KEY] = per_tile(context, len(tiles))
        return self._batcher.submit(inputs)

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """H x W x 3 float32 in [0, 1] -> restored float32 (one pass, or large blended tiles)."""
        image = np.asarray(image, np.float32)
        context = make_context(image) if self.config.global_context else None
        return tiled_run(image, lambda tiles: self.predict_tiles(tiles, context), max_pixels=self.max_pass_pixels,
                         batch_size=self.batch_size)

    def restore(self, image: np.ndarray) -> np.ndarray:
        """RGB uint8 H x W x 3 -> restored RGB uint8. A one-pass image on the JAX backend stays
        uint8 on the way in and out and gets its thumbnail made on the device."""
        h, w = image.shape[:2]
        _, rows, cols = plan_tiles(h, w, self.max_pass_pixels)
        one_pass = len(rows) == len(cols) == 1 and self.backend == "jax"
        if not one_pass or (self.config.global_context and min(h, w) < CONTEXT):
            return to_uint8(self.restore_float(image.astype(np.float32) / 255.0))
        # Sides padded up to multiples of SHAPE_BUCKET: fewer distinct shapes, fewer XLA compiles.
        tile_h, tile_w = -(-h // SHAPE_BUCKET) * SHAPE_BUCKET, -(-w // SHAPE_BUCKET) * SHAPE_BUCKET
        inputs = {INPUT_KEY: pad_to(image, tile_h, tile_w)[None]}
        if self.config.global_context:
            inputs.update(self._area_inputs(h, tile_h, w, tile_w))
        return self._batcher.submit(inputs)[0, :h, :w]

    def _area_inputs(self, h: int, tile_h: int, w: int, tile_w: int) -> dict:
        """The thumbnail's area weights for one padded shape, made once and kept on the device."""
        key = (h, tile_h, w, tile_w)
        if key not in self._area_cache:
            import jax

            if len(self._area_cache) >= AREA_CACHE_SIZE:  # many image sizes: forget the oldest
                self._area_cache.pop(next(iter(self._area_cache)))

            self._area_cache[key] = {_AREA_KEY: jax.device_put(area_weights(h, padded=tile_h)[None]),
                                     _AREA_COLS_KEY: jax.device_put(area_weights(w, padded=tile_w)[None])}
        return self._area_cache[key]

    def close(self) -> None:
        self._batcher.stop()


def _persistent_cache(jax) -> None:
    """Keep compiled passes on disk (``ARTRESTORE_JAX_CACHE``, default ~/.cache/artrestore/jax;
    ``off`` disables) so a new process skips XLA's compile of shapes it has seen; left alone
    when the application configured a cache itself."""
    folder = os.environ.get(CACHE_ENV, str(pathlib.Path.home() / ".cache" / "artrestore" / "jax"))
    if folder == "off" or jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def jax_on_gpu() -> bool:
    """Whether JAX's default device is a GPU (imports JAX)."""
    import jax

    return jax.default_backend() in ("gpu", "cuda", "rocm")
