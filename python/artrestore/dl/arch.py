"""The U-Net network (Keras 3): the architecture only, apart from its weights files and training.

``build_unet(UNetConfig)``: encoder / bottleneck / decoder with skip connections, predicting a
residual added to its input (damaged RGB float32 in [0, 1], N x H x W x 3, H and W multiples of
2**depth -> restored RGB float32). With ``global_context`` it also takes one CONTEXT^2 thumbnail of
the whole image per tile (``{"image": tiles, "context": thumbnails}``). ``import_keras()`` is the one
place Keras is imported (TensorFlow backend by default); a missing install raises
``MissingDependency`` with the install hint.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from artrestore._optional import require
from artrestore.dl.contract import CONTEXT, CONTEXT_KEY, INPUT_KEY, UNetConfig
from artrestore.dl.tiling import per_tile

__all__ = ["import_keras", "build_unet", "model_inputs"]


def import_keras():
    """The ``keras`` module, imported on first use with the TensorFlow backend unless one is set."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return require("keras")


def build_unet(config: UNetConfig = UNetConfig()):
    """Encoder (2 convs + max-pool per level), bottleneck, decoder (transposed conv, skip concat, 2 convs).

    With ``global_context`` the model takes ``{"image": tiles, "context": thumbnails}`` (one
    CONTEXT^2 thumbnail of the whole image per tile) and starts as exactly the plain U-Net: the
    colour transform starts at identity and the bottleneck vector at zero, so a plain model's
    weights are a valid starting point."""
    keras = import_keras()
    layers = keras.layers
    ColourTransform, AddVector = _layer_classes()
    inputs = keras.Input((None, None, 3), name=INPUT_KEY)
    x, skips = inputs, []
    if config.global_context:
        context = keras.Input((CONTEXT, CONTEXT, 3), name=CONTEXT_KEY)
        g = context
        for k, filters in enumerate((32, 64, 128, 128)):  # 128 -> 8
            g = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name=f"ctx_conv{k}")(g)
        g = layers.Concatenate(name="ctx_pool")([layers.GlobalAveragePooling2D(name="ctx_avg")(g),
                                                 layers.GlobalMaxPooling2D(name="ctx_max")(g)])
        g = layers.Dense(128, activation="relu", name="ctx_dense")(g)
        colour = layers.Dense(12, kernel_initializer="zeros", name="ctx_colour")(g)
        x = ColourTransform(name="ctx_apply")(inputs, colour)
        base = x

    def block(t, filters, name):
        for k in range(2):
            t = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{k}")(t)
        return t

    for level in range(config.depth):
        x = block(x, min(config.base_filters * 2**level, config.max_filters), f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    bottleneck_filters = min(config.base_filters * 2**config.depth, config.max_filters)
    if config.global_context:
        shift = layers.Dense(x.shape[-1], kernel_initializer="zeros", name="ctx_bottleneck")(g)
        x = AddVector(name="ctx_add")(x, shift)
    x = block(x, bottleneck_filters, "bottleneck")
    for level in reversed(range(config.depth)):
        filters = min(config.base_filters * 2**level, config.max_filters)
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, filters, f"dec{level}")
    x = layers.Conv2D(3, 1, name="head")(x)
    if config.global_context:
        outputs = layers.Add(name="residual")([base, x]) if config.residual else x
        return keras.Model({INPUT_KEY: inputs, CONTEXT_KEY: context}, outputs, name="unet")
    outputs = layers.Add(name="residual")([inputs, x]) if config.residual else x
    return keras.Model(inputs, outputs, name="unet")


@functools.lru_cache(maxsize=None)
def _layer_classes():
    """The global branch's two layers, defined once Keras is imported (never at module import)."""
    keras = import_keras()
    ops = keras.ops

    class ColourTransform(keras.layers.Layer):
        """Per-image affine colour map: x @ (I + D)^T + b, with D (3 x 3) and b (3) from 12 values."""

        def call(self, image, params):
            matrix = ops.reshape(params[:, :9], (-1, 3, 3)) + ops.eye(3)
            bias = params[:, 9:]
            return ops.einsum("nhwc,ndc->nhwd", image, matrix) + bias[:, None, None, :]

    class AddVector(keras.layers.Layer):
        """Adds a per-image vector to every position of a feature map."""

        def call(self, features, vector):
            return features + vector[:, None, None, :]

    return ColourTransform, AddVector


def model_inputs(config: UNetConfig, tiles: np.ndarray, context: np.ndarray | None):
    """What the model is called with: the tiles, plus (global-context models) the image's
    thumbnail repeated once per tile."""
    if not config.global_context:
        return tiles
    if context is None:
        raise ValueError("this U-Net needs the whole image's context thumbnail")
    return {INPUT_KEY: tiles, CONTEXT_KEY: per_tile(context, len(tiles))}
