"""The deep-learning path: a Keras 3 U-Net for severe damage, its training, tiled inference and export.

Model: damaged RGB float32 in [0, 1], N x H x W x 3 (H, W multiples of 2**depth) -> restored RGB in
[0, 1]. The network predicts a residual that is added to its input: most of a damaged image is
already right, so learning the correction converges faster and keeps colours and detail the
network cannot improve (clipped to [0, 1] at inference). The bundled model also takes, per tile,
a 128 x 128 thumbnail of the whole image (``make_context``), from which a global branch sets a
per-image colour transform and a bottleneck vector (``UNetConfig.global_context``).

Weights ship as ``unet.npz`` (float16 arrays in the model's weight order, read with
``allow_pickle=False``; the architecture is rebuilt from code, never loaded from a file) beside
``model_metadata.json`` (architecture, data, epochs, losses, validation scores, SHA-256 of the
weights). ``UNetRestorer`` restores any image size by overlapping 256 x 256 tiles blended with a
smooth window, batched. Keras (and its backend, TensorFlow by default) is imported only when this
module's functions are called, never by ``import artrestore``.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import pathlib
import time
import dataclasses
from dataclasses import asdict, dataclass

import numpy as np

from artrestore import _modelfile
from artrestore._validate import to_uint8

log = logging.getLogger(__name__)

BUNDLED_UNET = pathlib.Path(__file__).resolve().parent / "models" / "unet"
FORMAT = "artrestore-unet/1"
TILE = 256
OVERLAP = 32
CONTEXT = 128  # side of the whole-image thumbnail the global branch sees


@dataclass(frozen=True)
class UNetConfig:
    base_filters: int = 32
    depth: int = 4            # 256 -> 16 at the bottleneck with depth 4
    max_filters: int = 256    # channel cap, keeps the deepest levels (and the file) small
    residual: bool = True
    # A second input, the whole damaged image shrunk to CONTEXT x CONTEXT: a small encoder turns it
    # into a global colour transform applied before the U-Net and a vector added at the bottleneck.
    # Fading, lifted blacks and casts are properties of the whole image; a 256^2 tile alone cannot
    # tell a faded sky from a pale one, so without it every tile guesses its own colours.
    global_context: bool = False

    @property
    def multiple(self) -> int:
        return 2 ** self.depth


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def make_context(image: np.ndarray) -> np.ndarray:
    """The global branch's input: an H x W x 3 float32 image in [0, 1] shrunk (area average) to
    CONTEXT x CONTEXT x 3, whatever its aspect ratio."""
    import cv2

    return cv2.resize(np.ascontiguousarray(image, np.float32), (CONTEXT, CONTEXT), interpolation=cv2.INTER_AREA)


def build_unet(config: UNetConfig = UNetConfig()):
    """Encoder (2 convs + max-pool per level), bottleneck, decoder (transposed conv, skip concat, 2 convs).

    With ``global_context`` the model takes ``{"image": tiles, "context": thumbnails}`` (one
    CONTEXT^2 thumbnail of the whole image per tile) and starts as exactly the plain U-Net: the
    colour transform starts at identity and the bottleneck vector at zero, so a plain model's
    weights are a valid starting point."""
    keras = _keras()
    layers = keras.layers
    ColourTransform, AddVector = _layer_classes()
    inputs = keras.Input((None, None, 3), name="image")
    x, skips = inputs, []
    if config.global_context:
        context = keras.Input((CONTEXT, CONTEXT, 3), name="context")
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
        return keras.Model({"image": inputs, "context": context}, outputs, name="unet")
    outputs = layers.Add(name="residual")([inputs, x]) if config.residual else x
    return keras.Model(inputs, outputs, name="unet")


@functools.lru_cache(maxsize=None)
def _layer_classes():
    """The global branch's two layers, defined once Keras is imported (never at module import)."""
    keras = _keras()
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
    return {"image": tiles, "context": per_tile(context, len(tiles))}


def per_tile(context: np.ndarray, count: int) -> np.ndarray:
    """One thumbnail (CONTEXT x CONTEXT x 3) or one per tile -> ``count`` x CONTEXT x CONTEXT x 3 float32."""
    context = np.asarray(context, np.float32)
    return np.ascontiguousarray(np.broadcast_to(context.reshape(-1, *context.shape[-3:]), (count, *context.shape[-3:])))


# --------------------------------------------------------------------------------------------
# Losses (keras.ops only, so they run on any backend)
# --------------------------------------------------------------------------------------------

def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    return np.repeat(w[:, :, None, None], 3, axis=2).astype("float32")  # depthwise kernel


def make_loss(name: str = "mse"):
    """'mse' (default), 'l1', 'mse_ssim' (MSE + 0.2 (1 - SSIM)), 'mse_freq' (MSE + 0.05 x L1 of FFT
    magnitudes / tile size), 'mse_ssim_freq' (all three). SSIM as ``metrics.ssim``: 11 x 11 Gaussian
    window (sigma 1.5) per channel, valid region only; images in [0, 1]."""
    keras = _keras()
    ops = keras.ops
    window = _gaussian_window()

    def mse(y, p):
        return ops.mean(ops.square(y - p))

    def l1(y, p):
        return ops.mean(ops.abs(y - p))

    def ssim(y, p):
        c1, c2 = 0.01**2, 0.03**2
        blur = lambda t: ops.depthwise_conv(t, window, strides=1, padding="valid")
        mx, my = blur(y), blur(p)
        vx, vy, cxy = blur(y * y) - mx * mx, blur(p * p) - my * my, blur(y * p) - mx * my
        return ops.mean(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)))

    def freq(y, p):
        # Channels first so the FFT runs over the spatial axes.
        yt, pt = ops.transpose(y, (0, 3, 1, 2)), ops.transpose(p, (0, 3, 1, 2))
        zeros = ops.zeros_like(yt)
        yr, yi = ops.fft2((yt, zeros))
        pr, pi = ops.fft2((pt, zeros))
        return ops.mean(ops.abs(ops.sqrt(yr * yr + yi * yi + 1e-8) - ops.sqrt(pr * pr + pi * pi + 1e-8))) / TILE

    losses = {
        "mse": mse,
        "l1": l1,
        "mse_ssim": lambda y, p: mse(y, p) + 0.2 * (1 - ssim(y, p)),
        "mse_freq": lambda y, p: mse(y, p) + 0.05 * freq(y, p),
        # The frequency term rewards restoring the high frequencies blur removed, which MSE and SSIM
        # alone let the net leave out (a smooth guess scores well on both).
        "mse_ssim_freq": lambda y, p: mse(y, p) + 0.2 * (1 - ssim(y, p)) + 0.05 * freq(y, p),
    }
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(losses)}")
    fn = losses[name]
    fn.__name__ = name
    return fn


# --------------------------------------------------------------------------------------------
# Weights files
# --------------------------------------------------------------------------------------------

def save_weights(model, config: UNetConfig, folder, metadata: dict) -> pathlib.Path:
    """Write ``unet.npz`` (float16) and ``model_metadata.json`` into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = model.get_weights()
    path = folder / "unet.npz"
    np.savez_compressed(path, **{f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(weights)})
    meta = {**metadata, "format": FORMAT, "architecture": asdict(config),
            "parameters": int(sum(w.size for w in weights)),
            "weights_sha256": _modelfile.sha256(path)}
    (folder / "model_metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return folder


def read_metadata(folder) -> dict:
    return _modelfile.read_metadata(folder, FORMAT, "U-Net")


def load_model(folder=None):
    """Rebuild the U-Net from its metadata and load its float16 weights (hash and shapes checked)."""
    folder = pathlib.Path(folder) if folder is not None else BUNDLED_UNET
    meta = read_metadata(folder)
    path = folder / "unet.npz"
    _modelfile.check_arrays(path, meta.get("weights_sha256"), "U-Net")
    try:
        config = UNetConfig(**meta["architecture"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"U-Net: bad architecture in metadata ({error})") from None
    model = build_unet(config)
    expected = model.get_weights()
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[f"w{i:03d}"] for i in range(len(expected))]
            extra = len(npz.files) != len(expected)
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"U-Net: {path} does not hold this architecture's weights ({error})") from None
    if extra or any(a.shape != e.shape for a, e in zip(arrays, expected)):
        raise ValueError(f"U-Net: {path} does not hold this architecture's weights (shape mismatch)")
    model.set_weights([a.astype(np.float32) for a in arrays])
    return model, config, meta


# --------------------------------------------------------------------------------------------
# Tiled inference
# --------------------------------------------------------------------------------------------

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
    ``predict_tiles(tiles, context)`` with the image's thumbnail (None for a plain U-Net). The one
    path for in-process inference, gRPC inference and validation during training."""
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


class UNetRestorer:
    """In-process U-Net inference (the embedded default): RGB uint8 in, RGB uint8 out."""

    def __init__(self, model_dir=None, *, batch_size: int = 8):
        self.model, self.config, self.metadata = load_model(model_dir)
        self.batch_size = batch_size
        keras = _keras()
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
        return np.clip(np.asarray(self._predict(model_inputs(self.config, tiles, context))), 0.0, 1.0)

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """H x W x 3 float32 in [0, 1] -> restored float32 (tiled, blended)."""
        return tiled_restore(image, self.predict_tiles, global_context=self.config.global_context,
                             batch_size=self.batch_size)

    def restore(self, image: np.ndarray) -> np.ndarray:
        return to_uint8(self.restore_float(image.astype(np.float32) / 255.0))


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

@dataclass
class TrainConfig:
    clean_dir: str
    out_dir: str
    epochs: int = 50
    steps_per_epoch: int = 300
    batch_size: int = 8
    learning_rate: float = 1e-4
    loss: str = "mse"
    seed: int = 0
    variants_per_image: int = 24     # damaged versions synthesized per clean training image
    image_size: int = 512            # short side the clean images are resized to
    severity_weights: tuple = (0.15, 0.35, 0.5)  # light, moderate, severe
    time_budget_s: float = 1e9       # stop (keeping the best epoch) when exceeded
    workers: int = 0                 # synthesis processes (0: all cores)
    init_from: str | None = None     # a U-Net folder to continue from (its architecture, plus the global branch if asked)
    init_partial: bool = False       # instead: the given architecture, taking every layer of init_from that fits
    patience: int = 12               # epochs without val improvement before early stopping
    extra_train_dir: str | None = None  # more clean images, for training only (never val): e.g. `train packaged-images`


def _synthesize_one(args):
    from artrestore.data import synthesize_damage

    clean, severity, seed = args
    return synthesize_damage(clean, severity, seed)[0]


def make_pairs(cleans: list[np.ndarray], variants: int, weights, seed: int, workers: int = 0):
    """Damaged/clean pairs: ``variants`` synthesized versions of every clean image."""
    from concurrent.futures import ProcessPoolExecutor

    from artrestore.data import SEVERITIES

    rng = np.random.default_rng(seed)
    jobs, owners, severities = [], [], []
    for i, clean in enumerate(cleans):
        for k in range(variants):
            severity = SEVERITIES[rng.choice(3, p=np.asarray(weights) / np.sum(weights))]
            jobs.append((clean, severity, seed * 100000 + i * 1000 + k))
            owners.append(i)
            severities.append(severity)
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        damaged = list(pool.map(_synthesize_one, jobs, chunksize=8))
    return damaged, owners, severities


def _augment(damaged: np.ndarray, clean: np.ndarray, context: np.ndarray | None, rng: np.random.Generator):
    # The thumbnail turns and flips with its tile, so it stays the thumbnail of the turned image.
    k = int(rng.integers(4))
    flip = rng.random() < 0.5
    # Colour jitter applied to both, so the mapping to learn stays the same.
    gain = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    bias = np.float32(rng.uniform(-0.04, 0.04))

    def apply(a):
        a = np.rot90(a, k)
        return (a[:, ::-1] if flip else a) * gain + bias

    return apply(damaged), apply(clean), None if context is None else apply(context)


def random_batch(damaged, cleans, owners, batch_size, rng, tile=TILE, contexts=None):
    """One batch of random augmented crops: float32 [0, 1] (x, y), where x is the tiles or, when
    ``contexts`` (one thumbnail per damaged image) is given, {"image": tiles, "context": thumbnails}."""
    xs, ys, cs = [], [], []
    for _ in range(batch_size):
        j = int(rng.integers(len(damaged)))
        d, c = damaged[j], cleans[owners[j]]
        y0 = int(rng.integers(d.shape[0] - tile + 1))
        x0 = int(rng.integers(d.shape[1] - tile + 1))
        x, y, ctx = _augment(d[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255,
                             c[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255,
                             None if contexts is None else contexts[j], rng)
        xs.append(x)
        ys.append(y)
        cs.append(ctx)
    if contexts is None:
        return np.stack(xs), np.stack(ys)
    return {"image": np.stack(xs), "context": np.stack(cs)}, np.stack(ys)


def transfer_weights(source, target) -> int:
    """Copy weights layer by layer (matched by name and shapes) from ``source`` into ``target``;
    returns how many layers were copied. Lets a global-context model start from a plain one."""
    copied = 0
    names = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        match = names.get(layer.name)
        if match is None or not layer.weights:
            continue
        weights = match.get_weights()
        if [w.shape for w in weights] == [w.shape for w in layer.get_weights()]:
            layer.set_weights(weights)
            copied += 1
    return copied


def crop_dataset(damaged, cleans, owners, batch_size, steps, seed, workers=8, contexts=None):
    """A keras PyDataset of random crops, built by worker threads ahead of the accelerator (one
    Python thread cannot feed a GPU). Batch ``i`` of epoch ``e`` is seeded by (seed, e, i)."""
    keras = _keras()

    class Crops(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4 * workers)
            self.epoch = 0

        def __len__(self):
            return steps

        def __getitem__(self, index):
            rng = np.random.default_rng([seed, self.epoch, index])
            return random_batch(damaged, cleans, owners, batch_size, rng, contexts=contexts)

        def on_epoch_end(self):
            self.epoch += 1

    return Crops()


def train_unet(cfg: TrainConfig, model_config: UNetConfig = UNetConfig()) -> dict:
    """Train on pairs synthesized from ``cfg.clean_dir`` (split by source image with the dataset
    builder's rule: train for fitting, val for early stopping / checkpointing), save the best
    epoch as float16 weights + metadata in ``cfg.out_dir``, and return the metadata."""
    keras = _keras()
    from artrestore import metrics
    from artrestore.data import fit_size, list_images, split_sources
    from artrestore.imageio import read_image

    start = time.time()
    keras.utils.set_random_seed(cfg.seed)
    clean_dir = pathlib.Path(cfg.clean_dir)
    paths = list_images(clean_dir)
    names = [str(p.relative_to(clean_dir)) for p in paths]
    split = split_sources(names, cfg.seed)
    images = {n: fit_size(read_image(p), cfg.image_size) for p, n in zip(paths, names)}
    train_names = [n for n in names if split[n] == "train"]
    val_names = [n for n in names if split[n] == "val"]
    train_clean = [images[n] for n in train_names]
    # Extra sources join training only, so the validation split stays the dataset's.
    extra_paths = list_images(cfg.extra_train_dir) if cfg.extra_train_dir else []
    train_clean += [fit_size(read_image(p), cfg.image_size) for p in extra_paths]
    val_clean = [images[n] for n in val_names]
    train_damaged, train_owner, _ = make_pairs(train_clean, cfg.variants_per_image, cfg.severity_weights,
                                               cfg.seed, cfg.workers)
    val_damaged, val_owner, val_sev = make_pairs(val_clean, 3, (1, 1, 1), cfg.seed + 1, cfg.workers)
    log.info("pairs: %d train, %d val (%.0fs)", len(train_damaged), len(val_damaged), time.time() - start)

    # Fixed validation crops (centre), so epochs are compared on the same data.
    def centre(a):
        y0, x0 = (a.shape[0] - TILE) // 2, (a.shape[1] - TILE) // 2
        return a[y0:y0 + TILE, x0:x0 + TILE].astype(np.float32) / 255
    val_x = np.stack([centre(d) for d in val_damaged])
    val_y = np.stack([centre(val_clean[o]) for o in val_owner])

    if cfg.init_from:
        # Continue from a trained model: its architecture, optionally gaining the global branch.
        source, source_config, previous = load_model(cfg.init_from)
        if not cfg.init_partial:
            model_config = dataclasses.replace(source_config, global_context=model_config.global_context)
        model = build_unet(model_config)
        copied = transfer_weights(source, model)
        log.info("started from %s (%d of %d layers with weights copied)", cfg.init_from, copied,
                 sum(1 for layer in model.layers if layer.weights))
    else:
        model, previous, copied = build_unet(model_config), None, 0
    train_contexts = val_contexts = None
    if model_config.global_context:
        train_contexts = [make_context(d.astype(np.float32) / 255) for d in train_damaged]
        val_contexts = np.stack([make_context(d.astype(np.float32) / 255) for d in val_damaged])
        val_x = {"image": val_x, "context": val_contexts}
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=make_loss(cfg.loss))
    out_dir = pathlib.Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / "best.weights.h5"

    class TimeBudget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.time() - start > cfg.time_budget_s:
                log.warning("time budget reached after epoch %d", epoch + 1)
                self.model.stop_training = True

    history = model.fit(
        crop_dataset(train_damaged, train_clean, train_owner, cfg.batch_size, cfg.steps_per_epoch, cfg.seed,
                     contexts=train_contexts),
        epochs=cfg.epochs, validation_data=(val_x, val_y),
        validation_batch_size=16, verbose=2,
        callbacks=[
            keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss", save_best_only=True,
                                            save_weights_only=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-6),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience, restore_best_weights=False),
            TimeBudget(),
        ],
    )
    model.load_weights(str(checkpoint))
    # Evaluate with the weights exactly as shipped (float16).
    model.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    per_severity: dict = {}
    for d, o, s in zip(val_damaged, val_owner, val_sev):
        predict = lambda x, context: np.asarray(model(model_inputs(model_config, x, context), training=False))
        restored = to_uint8(tiled_restore(d.astype(np.float32) / 255, predict,
                                          global_context=model_config.global_context))
        clean = val_clean[o]
        per_severity.setdefault(s, []).append((metrics.psnr(d, clean), metrics.psnr(restored, clean),
                                               metrics.ssim(d, clean), metrics.ssim(restored, clean)))
    validation = {s: {"pairs": len(v), "input_psnr": float(np.mean([a[0] for a in v])),
                      "psnr": float(np.mean([a[1] for a in v])), "input_ssim": float(np.mean([a[2] for a in v])),
                      "ssim": float(np.mean([a[3] for a in v]))} for s, v in per_severity.items()}
    losses = history.history
    best_epoch = int(np.argmin(losses["val_loss"])) + 1
    metadata = {
        "backend_trained": keras.backend.backend(),
        "keras_version": keras.__version__,
        "data": {"clean_dir": pathlib.Path(cfg.clean_dir).name, "train_sources": len(train_names),
                 "extra_train_dir": cfg.extra_train_dir and pathlib.Path(cfg.extra_train_dir).name,
                 "extra_train_sources": len(extra_paths),
                 "val_sources": len(val_names), "train_pairs": len(train_damaged), "val_pairs": len(val_damaged),
                 "variants_per_image": cfg.variants_per_image, "image_size": cfg.image_size,
                 "severity_weights": list(cfg.severity_weights), "split_seed": cfg.seed},
        "training": {"epochs_run": len(losses["loss"]), "best_epoch": best_epoch, "steps_per_epoch": cfg.steps_per_epoch,
                     "batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate, "loss": cfg.loss,
                     "optimizer": "Adam", "tile": TILE, "seconds": round(time.time() - start, 1),
                     "loss_history": [float(v) for v in losses["loss"]],
                     "val_loss_history": [float(v) for v in losses["val_loss"]]},
        "validation": validation,
        "continued_from": None if previous is None else {"training": previous.get("training"),
                                                          "commit": previous.get("commit"),
                                                          "layers_copied": copied,
                                                          "architecture": previous.get("architecture")},
        "commit": os.environ.get("ARTRESTORE_COMMIT", "unknown"),
    }
    save_weights(model, model_config, out_dir, metadata)
    checkpoint.unlink(missing_ok=True)
    return metadata


# --------------------------------------------------------------------------------------------
# Export for TensorFlow Serving
# --------------------------------------------------------------------------------------------

SIGNATURE_INPUT = "image"
SIGNATURE_OUTPUT = "restored"
SIGNATURE_CONTEXT = "context"  # global-context models only: [N, CONTEXT, CONTEXT, 3], one thumbnail per tile


def export_saved_model(model_dir, base_path, *, model_name: str = "artrestore_unet", version: int = 1,
                       overwrite: bool = False) -> pathlib.Path:
    """Write ``<base>/<model_name>/<version>/`` (saved_model.pb + variables/) with a
    ``serving_default`` signature: float32 ``image`` [N, H, W, 3] in [0, 1] (H, W multiples of 16)
    -> float32 ``restored`` [N, H, W, 3] clipped to [0, 1]. A global-context model also takes
    float32 ``context`` [N, 128, 128, 3]: for each tile, ``make_context`` of its whole image."""
    keras = _keras()
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("export needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import shutil

    import tensorflow as tf

    model, config, meta = load_model(model_dir)
    target = pathlib.Path(base_path) / model_name / str(int(version))
    if target.exists():
        if not overwrite:
            raise FileExistsError(f"{target} already exists (pass overwrite=True to replace it)")
        shutil.rmtree(target)
    archive = keras.export.ExportArchive()
    archive.track(model)
    image_spec = tf.TensorSpec([None, None, None, 3], tf.float32, name=SIGNATURE_INPUT)
    if config.global_context:
        archive.add_endpoint(
            name="serving_default",
            fn=lambda image, context: {SIGNATURE_OUTPUT: tf.clip_by_value(
                model({"image": image, "context": context}, training=False), 0.0, 1.0)},
            input_signature=[image_spec, tf.TensorSpec([None, CONTEXT, CONTEXT, 3], tf.float32, name=SIGNATURE_CONTEXT)],
        )
    else:
        archive.add_endpoint(
            name="serving_default",
            fn=lambda image: {SIGNATURE_OUTPUT: tf.clip_by_value(model(image, training=False), 0.0, 1.0)},
            input_signature=[image_spec],
        )
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(str(tmp), verbose=False)
    # TF Serving loads a version folder as soon as it appears: publish it complete, in one rename.
    tmp.rename(target)
    (target / "assets.extra").mkdir(exist_ok=True)
    return target


def evaluate_on_pairs(data_root, out_csv, *, split: str = "test", model_dir=None, progress: bool = True):
    """Per pair of a paired dataset split: input and U-Net PSNR / SSIM -> ``test_results.csv``."""
    import csv

    from tqdm import tqdm

    from artrestore import metrics
    from artrestore.data import load_pairs
    from artrestore.imageio import read_image

    unet = UNetRestorer(model_dir)
    rows = []
    for pair in tqdm(load_pairs(data_root, split), desc="U-Net test", disable=not progress):
        damaged, clean = read_image(pair["damaged"]), read_image(pair["undamaged"])
        restored = unet.restore(damaged)
        rows.append({"file": pair["file"], "source": pair["source"], "severity": pair["severity"],
                     "input_psnr": round(metrics.psnr(damaged, clean), 4), "input_ssim": round(metrics.ssim(damaged, clean), 4),
                     "output_psnr": round(metrics.psnr(restored, clean), 4),
                     "output_ssim": round(metrics.ssim(restored, clean), 4)})
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows
