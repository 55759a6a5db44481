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
import types

import numpy as np

from artrestore._optional import require
from artrestore.dl.contract import CONTEXT, CONTEXT_KEY, INPUT_KEY, UNetConfig
from artrestore.dl.tiling import per_tile

__all__ = ["import_keras", "build_unet", "model_inputs", "MASK_OUTPUT"]

MASK_OUTPUT = "damage_mask"  # name of the detector's output layer (training and evaluation models only)


def import_keras():
    """The ``keras`` module, imported on first use with the TensorFlow backend unless one is set."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return require("keras")


def build_unet(config: UNetConfig = UNetConfig(), *, dtype_policy: str | None = None, with_mask: bool = False):
    """Encoder (2 convs + max-pool per level), bottleneck, decoder (transposed conv, skip concat, 2 convs).

    ``dtype_policy``: a Keras dtype policy for the network's layers (``"mixed_bfloat16"``,
    ``"mixed_float16"``: float32 weights, reduced-precision compute), default the global one. The
    colour transform and the residual sum stay float32 whatever the policy, so the output is
    float32 and the input reaches it at full precision.

    With ``global_context`` the model takes ``{"image": tiles, "context": thumbnails}`` (one
    CONTEXT^2 thumbnail of the whole image per tile) and starts as exactly the plain U-Net: the
    colour transform starts at identity and the bottleneck vector at zero, so a plain model's
    weights are a valid starting point.

    With ``detector_filters`` a line/spot detector (a small U-Net of its own on the tile) predicts a
    damage mask in [0, 1] that joins the image as a fourth channel of the first convolution.
    ``with_mask``: the model returns ``[restored, mask]`` (N x H x W x 1, float32), for training
    and for measuring the detector; the served and exported model returns the image only. Both
    hold the same layers, so their weight lists are the same."""
    keras = import_keras()
    layers = keras.layers
    ColourTransform, AddVector = _layer_classes()
    nn = _policy_layers(dtype_policy, AddVector=AddVector, **{name: getattr(layers, name) for name in _POLICY_LAYERS})
    inputs = keras.Input((None, None, 3), name=INPUT_KEY)
    x, skips = inputs, []
    if config.global_context:
        context = keras.Input((CONTEXT, CONTEXT, 3), name=CONTEXT_KEY)
        g = context
        for k, filters in enumerate((32, 64, 128, 128)):  # 128 -> 8
            g = nn.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name=f"ctx_conv{k}")(g)
        g = nn.Concatenate(name="ctx_pool")([nn.GlobalAveragePooling2D(name="ctx_avg")(g),
                                             nn.GlobalMaxPooling2D(name="ctx_max")(g)])
        g = nn.Dense(128, activation="relu", name="ctx_dense")(g)
        colour = nn.Dense(12, kernel_initializer="zeros", name="ctx_colour")(g)
        x = ColourTransform(dtype="float32", name="ctx_apply")(inputs, colour)
        base = x

    def block(t, filters, name):
        for k in range(2):
            t = nn.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{k}")(t)
        return t

    mask = None
    if config.detector_filters:
        mask = _detector(nn, layers, inputs, config.detector_filters)
        x = nn.Concatenate(name="mask_join")([x, mask])
    for level in range(config.depth):
        x = block(x, min(config.base_filters * 2**level, config.max_filters), f"enc{level}")
        skips.append(x)
        x = nn.MaxPooling2D(2, name=f"pool{level}")(x)
    bottleneck_filters = min(config.base_filters * 2**config.depth, config.max_filters)
    if config.global_context:
        shift = nn.Dense(x.shape[-1], kernel_initializer="zeros", name="ctx_bottleneck")(g)
        x = nn.AddVector(name="ctx_add")(x, shift)
    x = block(x, bottleneck_filters, "bottleneck")
    for level in reversed(range(config.depth)):
        filters = min(config.base_filters * 2**level, config.max_filters)
        x = nn.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{level}")(x)
        x = nn.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, filters, f"dec{level}")
    x = nn.Conv2D(3, 1, name="head")(x)
    start = base if config.global_context else inputs
    outputs = layers.Add(dtype="float32", name="residual")([start, x]) if config.residual else x
    if with_mask:
        if mask is None:
            raise ValueError("with_mask needs a U-Net with a damage detector (detector_filters)")
        outputs = [outputs, mask]
    feeds = {INPUT_KEY: inputs, CONTEXT_KEY: context} if config.global_context else inputs
    return keras.Model(feeds, outputs, name="unet")


def _detector(nn, layers, tile, filters):
    """Line/spot damage mask (N x H x W x 1, float32 in [0, 1]) of a tile: a U-Net of
    ``len(filters)`` levels (two 3x3 convs each, max-pool down, transposed conv up, one 3x3 conv
    after each skip) whose receptive field (about 70 px with four levels) sees a line's straightness
    and length, which tells a scratch from hair or grass. Its logits start at -4 (mask ~0.02), so a
    model grown from a plain one starts near it."""
    keras = import_keras()
    t, skips = tile, []
    for level, n in enumerate(filters):
        if level:
            t = nn.MaxPooling2D(2, name=f"det_pool{level}")(t)
        for k in range(2):
            t = nn.Conv2D(n, 3, padding="same", activation="relu", name=f"det_enc{level}_conv{k}")(t)
        skips.append(t)
    for level in reversed(range(len(filters) - 1)):
        t = nn.Conv2DTranspose(filters[level], 2, strides=2, padding="same", name=f"det_up{level}")(t)
        t = nn.Concatenate(name=f"det_skip{level}")([t, skips[level]])
        t = nn.Conv2D(filters[level], 3, padding="same", activation="relu", name=f"det_dec{level}")(t)
    logits = nn.Conv2D(1, 1, bias_initializer=keras.initializers.Constant(-4.0), name="det_head")(t)
    return layers.Activation("sigmoid", dtype="float32", name=MASK_OUTPUT)(logits)


_POLICY_LAYERS = ("Conv2D", "Conv2DTranspose", "Dense", "MaxPooling2D", "Concatenate", "GlobalAveragePooling2D",
                  "GlobalMaxPooling2D")


def _policy_layers(dtype_policy, **classes):
    """The layer classes with ``dtype=dtype_policy`` bound (unchanged when it is None: the global policy)."""
    bind = (lambda c: functools.partial(c, dtype=dtype_policy)) if dtype_policy else (lambda c: c)
    return types.SimpleNamespace(**{name: bind(c) for name, c in classes.items()})


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
