"""Training the U-Net, as named steps: ``prepare_data`` (split the clean sources by image,
synthesize pairs), ``init_model`` (new, continued or partially copied), ``fit`` (Keras, best epoch
by validation loss), ``validate`` (per-severity PSNR / SSIM of whole validation images with the
weights as shipped, float16) and ``save`` (``unet.npz`` + metadata recording ``asdict(config)``).
``train_unet`` runs them in order and returns the metadata.

Inputs: a folder of clean images (``TrainConfig.clean_dir``; split train / val / test with the
dataset builder's rule, only train for fitting and val for model selection) and optionally a folder
of training-only extras. The CLI's ``train unet`` options come from ``TrainConfig``'s fields.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from artrestore import metrics
from artrestore._validate import to_uint8
from artrestore.dl.arch import build_unet, import_keras, model_inputs
from artrestore.dl.contract import CONTEXT_KEY, INPUT_KEY, TILE, UNetConfig
from artrestore.dl.tiling import make_context, tiled_restore
from artrestore.dl.weights import load_model, save_weights
from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size, list_images, split_sources
from artrestore.training.losses import DEFAULT_LOSS, LOSSES, make_loss
from artrestore.training.unet_data import crop_dataset, make_pairs

__all__ = ["TrainConfig", "DEFAULT_ARCHITECTURE", "TrainingData", "prepare_data", "init_model", "transfer_weights",
           "fit", "validate", "save", "train_unet"]

log = logging.getLogger(__name__)

# The architecture ``artrestore train unet`` builds unless told otherwise: the shipped model's kind.
DEFAULT_ARCHITECTURE = UNetConfig(global_context=True)


def _option(default, flag: str | None, help: str, **extra):
    """A TrainConfig field; ``flag`` is its ``artrestore train unet`` option (None: not exposed)."""
    return field(default=default, metadata={"flag": flag, "help": help, **extra})


@dataclass
class TrainConfig:
    clean_dir: str = field(metadata={"flag": "--clean", "help": "folder of clean images"})
    out_dir: str = field(metadata={"flag": "--out", "help": "model folder to write"})
    epochs: int = _option(50, "--epochs", "maximum epochs")
    steps_per_epoch: int = _option(300, "--steps", "steps per epoch")
    batch_size: int = _option(8, "--batch-size", "tiles per step")
    learning_rate: float = _option(1e-4, "--lr", "Adam learning rate")
    loss: str = _option(DEFAULT_LOSS, "--loss", "training loss", choices=tuple(LOSSES))
    seed: int = _option(0, "--seed", "split, synthesis and initialisation seed")
    variants_per_image: int = _option(24, "--variants", "damaged versions synthesized per clean training image")
    image_size: int = _option(512, None, "short side the clean images are resized to")
    severity_weights: tuple = _option((0.15, 0.35, 0.5), None, "light, moderate, severe")
    time_budget_s: float = _option(1e9, "--time-budget", "seconds; stop after the epoch that passes it")
    workers: int = _option(0, None, "synthesis processes (0: all cores)")
    init_from: str | None = _option(None, None, "a U-Net folder to continue from (its architecture, plus the "
                                                "global branch if asked)")
    init_partial: bool = _option(False, None, "instead: the given architecture, taking every layer of init_from "
                                              "that fits")
    patience: int = _option(12, "--patience", "early-stopping patience in epochs")
    extra_train_dir: str | None = _option(None, "--extra-train", "folder of more clean images used for training only "
                                                                 "(never validation)")


@dataclass
class TrainingData:
    """Damaged uint8 images with the index of their clean image (``*_owner``), per split;
    contexts (one CONTEXT^2 thumbnail per damaged image) only for global-context models."""
    train_clean: list
    train_damaged: list
    train_owner: list
    val_clean: list
    val_damaged: list
    val_owner: list
    val_severity: list
    counts: dict
    train_contexts: list | None = None
    val_contexts: np.ndarray | None = None

    def validation_batch(self):
        """Fixed centre crops of the validation pairs (x, y), so epochs compare on the same data."""
        def centre(a):
            y0, x0 = (a.shape[0] - TILE) // 2, (a.shape[1] - TILE) // 2
            return a[y0:y0 + TILE, x0:x0 + TILE].astype(np.float32) / 255

        x = np.stack([centre(d) for d in self.val_damaged])
        y = np.stack([centre(self.val_clean[o]) for o in self.val_owner])
        return (x if self.val_contexts is None else {INPUT_KEY: x, CONTEXT_KEY: self.val_contexts}), y


def prepare_data(cfg: TrainConfig) -> TrainingData:
    """Read, resize and split the clean sources; synthesize the training and validation pairs."""
    start = time.time()
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
    val_damaged, val_owner, val_severity = make_pairs(val_clean, 3, (1, 1, 1), cfg.seed + 1, cfg.workers)
    log.info("pairs: %d train, %d val (%.0fs)", len(train_damaged), len(val_damaged), time.time() - start)
    counts = {"train_sources": len(train_names), "extra_train_sources": len(extra_paths),
              "val_sources": len(val_names), "train_pairs": len(train_damaged), "val_pairs": len(val_damaged)}
    return TrainingData(train_clean, train_damaged, train_owner, val_clean, val_damaged, val_owner, val_severity,
                        counts)


def add_contexts(data: TrainingData) -> TrainingData:
    """The same data with the whole-image thumbnails a global-context model takes."""
    return dataclasses.replace(
        data, train_contexts=[make_context(d.astype(np.float32) / 255) for d in data.train_damaged],
        val_contexts=np.stack([make_context(d.astype(np.float32) / 255) for d in data.val_damaged]))


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


def init_model(cfg: TrainConfig, model_config: UNetConfig):
    """(model, its UNetConfig, the metadata it continued from or None, layers copied). With
    ``init_from``: that model's architecture (gaining the global branch if asked) and weights, or
    with ``init_partial`` ``model_config`` taking every layer of it that fits."""
    if not cfg.init_from:
        return build_unet(model_config), model_config, None, 0
    source, source_config, previous = load_model(cfg.init_from)
    if not cfg.init_partial:
        model_config = dataclasses.replace(source_config, global_context=model_config.global_context)
    model = build_unet(model_config)
    copied = transfer_weights(source, model)
    log.info("started from %s (%d of %d layers with weights copied)", cfg.init_from, copied,
             sum(1 for layer in model.layers if layer.weights))
    return model, model_config, previous, copied


def fit(model, cfg: TrainConfig, data: TrainingData, checkpoint: pathlib.Path, start: float):
    """Compile and fit; the best epoch by validation loss is loaded back. Returns the Keras history."""
    keras = import_keras()
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=make_loss(cfg.loss))

    class TimeBudget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.time() - start > cfg.time_budget_s:
                log.warning("time budget reached after epoch %d", epoch + 1)
                self.model.stop_training = True

    history = model.fit(
        crop_dataset(data.train_damaged, data.train_clean, data.train_owner, cfg.batch_size, cfg.steps_per_epoch,
                     cfg.seed, contexts=data.train_contexts),
        epochs=cfg.epochs, validation_data=data.validation_batch(),
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
    return history


def validate(model, model_config: UNetConfig, data: TrainingData) -> dict:
    """Per severity: pairs, mean input and output PSNR (dB) and SSIM of the whole validation images,
    restored through the tiled path with the weights rounded to float16 as shipped."""
    model.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])

    def predict(x, context):
        return np.asarray(model(model_inputs(model_config, x, context), training=False))

    per_severity: dict = {}
    for d, o, s in zip(data.val_damaged, data.val_owner, data.val_severity):
        restored = to_uint8(tiled_restore(d.astype(np.float32) / 255, predict,
                                          global_context=model_config.global_context))
        clean = data.val_clean[o]
        per_severity.setdefault(s, []).append((metrics.psnr(d, clean), metrics.psnr(restored, clean),
                                               metrics.ssim(d, clean), metrics.ssim(restored, clean)))
    return {s: {"pairs": len(v), "input_psnr": float(np.mean([a[0] for a in v])),
                "psnr": float(np.mean([a[1] for a in v])), "input_ssim": float(np.mean([a[2] for a in v])),
                "ssim": float(np.mean([a[3] for a in v]))} for s, v in per_severity.items()}


def save(model, model_config: UNetConfig, cfg: TrainConfig, data: TrainingData, history, validation: dict,
         previous: dict | None, copied: int, seconds: float) -> dict:
    """Write the model folder ``cfg.out_dir``; returns its metadata (``config`` is ``asdict(cfg)``
    with folders reduced to their names, so no local path is recorded)."""
    keras = import_keras()
    losses = history.history
    config = asdict(cfg)
    for key in ("clean_dir", "out_dir", "extra_train_dir", "init_from"):
        config[key] = config[key] and pathlib.Path(config[key]).name
    metadata = {
        "backend_trained": keras.backend.backend(),
        "keras_version": keras.__version__,
        "config": config,
        "data": {"clean_dir": config["clean_dir"], "extra_train_dir": config["extra_train_dir"], **data.counts,
                 "variants_per_image": cfg.variants_per_image, "image_size": cfg.image_size,
                 "severity_weights": list(cfg.severity_weights), "split_seed": cfg.seed},
        "training": {"epochs_run": len(losses["loss"]), "best_epoch": int(np.argmin(losses["val_loss"])) + 1,
                     "steps_per_epoch": cfg.steps_per_epoch, "batch_size": cfg.batch_size,
                     "learning_rate": cfg.learning_rate, "loss": cfg.loss, "optimizer": "Adam", "tile": TILE,
                     "seconds": round(seconds, 1), "loss_history": [float(v) for v in losses["loss"]],
                     "val_loss_history": [float(v) for v in losses["val_loss"]]},
        "validation": validation,
        "continued_from": None if previous is None else {"training": previous.get("training"),
                                                          "commit": previous.get("commit"),
                                                          "layers_copied": copied,
                                                          "architecture": previous.get("architecture")},
        "commit": os.environ.get("ARTRESTORE_COMMIT", "unknown"),
    }
    save_weights(model, model_config, cfg.out_dir, metadata)
    return metadata


def train_unet(cfg: TrainConfig, model_config: UNetConfig = UNetConfig()) -> dict:
    """Train on pairs synthesized from ``cfg.clean_dir``, save the best epoch as float16 weights +
    metadata in ``cfg.out_dir``, and return the metadata."""
    start = time.time()
    import_keras().utils.set_random_seed(cfg.seed)
    data = prepare_data(cfg)
    model, model_config, previous, copied = init_model(cfg, model_config)
    if model_config.global_context:
        data = add_contexts(data)
    out_dir = pathlib.Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / "best.weights.h5"
    history = fit(model, cfg, data, checkpoint, start)
    validation = validate(model, model_config, data)
    metadata = save(model, model_config, cfg, data, history, validation, previous, copied, time.time() - start)
    checkpoint.unlink(missing_ok=True)
    return metadata
