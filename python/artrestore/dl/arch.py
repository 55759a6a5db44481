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
    """Encoder, bottleneck and decoder with skips: ``config.block`` "plain" (2 convs + max-pool per
    level, transposed conv up, skip concat) or "naf" (NAF blocks, ``_naf_trunk``).

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
    ColourTransform, AddVector, SimpleGate, Scale = _layer_classes()
    nn = _policy_layers(dtype_policy, AddVector=AddVector, SimpleGate=SimpleGate, Scale=Scale,
                        **{name: getattr(layers, name) for name in _POLICY_LAYERS})
    inputs = keras.Input((None, None, 3), name=INPUT_KEY)
    x = inputs
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

    mask = None
    if config.detector_filters:
        mask = _detector(nn, layers, inputs, config.detector_filters)
        x = nn.Concatenate(name="mask_join")([x, mask])

    def widths(level):
        return min(config.base_filters * 2**level, config.max_filters)

    def at_bottleneck(t):
        if config.global_context:
            shift = nn.Dense(t.shape[-1], kernel_initializer="zeros", name="ctx_bottleneck")(g)
            t = nn.AddVector(name="ctx_add")(t, shift)
        return t

    trunk = _naf_trunk if config.block == "naf" else _plain_trunk
    x = trunk(nn, x, config, widths, at_bottleneck)
    start = base if config.global_context else inputs
    outputs = layers.Add(dtype="float32", name="residual")([start, x]) if config.residual else x
    if with_mask:
        if mask is None:
            raise ValueError("with_mask needs a U-Net with a damage detector (detector_filters)")
        outputs = [outputs, mask]
    feeds = {INPUT_KEY: inputs, CONTEXT_KEY: context} if config.global_context else inputs
    return keras.Model(feeds, outputs, name="unet")


def _plain_trunk(nn, x, config, widths, at_bottleneck):
    """The plain U-Net: two 3x3 convolutions per level, max-pool down, transposed conv up,
    concatenated skips, a 1x1 head to RGB."""
    def block(t, filters, name):
        for k in range(2):
            t = nn.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{k}")(t)
        return t

    skips = []
    for level in range(config.depth):
        x = block(x, widths(level), f"enc{level}")
        skips.append(x)
        x = nn.MaxPooling2D(2, name=f"pool{level}")(x)
    x = block(at_bottleneck(x), widths(config.depth), "bottleneck")
    for level in reversed(range(config.depth)):
        x = nn.Conv2DTranspose(widths(level), 2, strides=2, padding="same", name=f"up{level}")(x)
        x = nn.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, widths(level), f"dec{level}")
    return nn.Conv2D(3, 1, name="head")(x)


def _naf_trunk(nn, x, config, widths, at_bottleneck):
    """The NAFNet-style U-Net (Chen et al. 2022): a 3x3 intro convolution, ``naf_blocks[level]``
    NAF blocks per encoder level, 2x2 strided convolutions down, transposed convolutions up,
    added skips, one block per decoder level, a 3x3 head to RGB. No ReLU anywhere: SimpleGate
    (the product of two channel halves) is the non-linearity."""
    x = nn.Conv2D(widths(0), 3, padding="same", name="intro")(x)
    skips = []
    for level in range(config.depth):
        for k in range(config.naf_blocks[level]):
            x = _naf_block(nn, x, f"enc{level}_naf{k}")
        skips.append(x)
        x = nn.Conv2D(widths(level + 1), 2, strides=2, name=f"down{level}")(x)
    x = at_bottleneck(x)
    for k in range(config.naf_blocks[-1]):
        x = _naf_block(nn, x, f"bottleneck_naf{k}")
    for level in reversed(range(config.depth)):
        x = nn.Conv2DTranspose(widths(level), 2, strides=2, padding="same", name=f"up{level}")(x)
        x = nn.Add(name=f"skip{level}")([x, skips[level]])
        x = _naf_block(nn, x, f"dec{level}_naf0")
    return nn.Conv2D(3, 3, padding="same", name="head")(x)


def _naf_block(nn, x, name):
    """One NAF block on C channels: x + beta * conv1x1(SCA(gate(dw3x3(conv1x1_2C(LN(x)))))), then
    the same with a gated 1x1 feed-forward and gamma. beta and gamma start at zero, so a fresh
    block is the identity."""
    channels = x.shape[-1]
    y = nn.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = nn.Conv2D(2 * channels, 1, name=f"{name}_expand")(y)
    y = nn.DepthwiseConv2D(3, padding="same", name=f"{name}_dw")(y)
    y = nn.SimpleGate(name=f"{name}_gate1")(y)
    attention = nn.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(y)
    attention = nn.Conv2D(channels, 1, name=f"{name}_sca")(attention)
    y = nn.Multiply(name=f"{name}_attend")([y, attention])
    y = nn.Conv2D(channels, 1, name=f"{name}_project")(y)
    x = nn.Add(name=f"{name}_add1")([x, nn.Scale(name=f"{name}_beta")(y)])
    y = nn.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = nn.Conv2D(2 * channels, 1, name=f"{name}_ffn_expand")(y)
    y = nn.SimpleGate(name=f"{name}_gate2")(y)
    y = nn.Conv2D(channels, 1, name=f"{name}_ffn_project")(y)
    return nn.Add(name=f"{name}_add2")([x, nn.Scale(name=f"{name}_gamma")(y)])


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
                  "GlobalMaxPooling2D", "LayerNormalization", "DepthwiseConv2D", "Multiply", "Add")


def _policy_layers(dtype_policy, **classes):
    """The layer classes with ``dtype=dtype_policy`` bound (unchanged when it is None: the global policy)."""
    bind = (lambda c: functools.partial(c, dtype=dtype_policy)) if dtype_policy else (lambda c: c)
    return types.SimpleNamespace(**{name: bind(c) for name, c in classes.items()})


@functools.lru_cache(maxsize=None)
def _layer_classes():
    """The global branch's two layers and the NAF block's two, defined once Keras is imported
    (never at module import)."""
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

    class SimpleGate(keras.layers.Layer):
        """NAFNet's gate: the first half of the channels times the second half (2C -> C)."""

        def call(self, features):
            first, second = ops.split(features, 2, axis=-1)
            return first * second

    class Scale(keras.layers.Layer):
        """A learned per-channel factor, starting at zero (a residual branch that starts closed)."""

        def build(self, input_shape):
            self.factor = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="factor")

        def call(self, features):
            return features * ops.cast(self.factor, features.dtype)

    return ColourTransform, AddVector, SimpleGate, Scale


def model_inputs(config: UNetConfig, tiles: np.ndarray, context: np.ndarray | None):
    """What the model is called with: the tiles, plus (global-context models) the image's
    thumbnail repeated once per tile."""
    if not config.global_context:
        return tiles
    if context is None:
        raise ValueError("this U-Net needs the whole image's context thumbnail")
    return {INPUT_KEY: tiles, CONTEXT_KEY: per_tile(context, len(tiles))}
