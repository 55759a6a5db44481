"""U-Net training on the broad damage model, with line and spot damage weighted by its mask.

Inputs: folders of clean RGB images (any size >= 256 px a side): the dataset's training sources
(``split_sources`` of the clean folder, seed 0, written out by ``scripts/pack_training_data.py``),
plus training-only crops (the packaged and collected image sets). Validation: the dataset's ``val``
sources, each damaged once per severity by the broad damage model with fixed seeds, so every run compares on the
same pairs (with ``legacy_fraction`` > 0, the same sources and seeds also by the first
synthesizer, scored apart). Outputs: a U-Net folder (``unet.npz`` float16 + ``model_metadata.json``) like the
shipped one, whose metadata appends this run (data, damage model, losses per epoch, validation per
severity with PSNR inside and outside the line/spot mask) to the runs it continued from.

Why a mask term: scratches, cracks, dust and hairs cover a few per cent of the pixels, so a plain
MSE lets the network leave them (a smooth guess costs little). ``mask_weight`` adds the mean
squared error inside the damage mask, which the broad damage model returns for free.

Run on the lent GPU with ``KERAS_BACKEND=jax python -m artrestore.cli train unet-broad ...``; the
runtime never imports this module.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import time
from dataclasses import asdict, dataclass

import numpy as np

from artrestore.dl.contract import COMPUTE_PRECISIONS
from artrestore.training.losses import BROAD_LOSS

log = logging.getLogger(__name__)

LR_SCHEDULES = ("plateau", "cosine")
LR_FLOOR = 0.02   # the cosine schedule's last rate, as a share of the first
# Compute precisions for fitting: weights and the optimizer stay float32 either way; bf16 needs no
# loss scaling (float16 would, so it is not offered).
TRAIN_PRECISIONS = ("fp32", "bf16")


def cosine_lr(learning_rate: float, elapsed_fraction: float) -> float:
    """The cosine schedule's rate after ``elapsed_fraction`` (0-1, clipped) of the budget."""
    t = min(max(elapsed_fraction, 0.0), 1.0)
    return learning_rate * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + np.cos(np.pi * t)))

@dataclass
class BroadTrainConfig:
    train_dirs: tuple                   # folders of clean training images (dataset train split + extra sets)
    val_dir: str                        # the dataset's validation sources (never trained on)
    out_dir: str
    init_from: str | None = None        # a U-Net folder to continue from
    # A fresh model's architecture: JSON of ``UNetConfig`` fields that differ from the default
    # global-context U-Net, e.g. '{"block": "naf", "base_filters": 48}' (fresh models only).
    architecture: str = ""
    minutes: float = 8.0                # wall-clock budget for fitting (best epoch kept)
    # At most this many epochs: comparisons of architectures run the same number of steps
    # whatever each one's speed (the cosine schedule then follows whichever budget binds first).
    epochs: int = 1000
    steps_per_epoch: int = 400
    batch_size: int = 16
    learning_rate: float = 1e-4
    # "plateau": halve the rate after 4 epochs without a better validation loss; "cosine": decay
    # it from ``learning_rate`` to ``LR_FLOOR`` of it along the wall-clock budget (``cosine_lr``),
    # which suits a run that is one call of a fixed number of minutes.
    lr_schedule: str = "plateau"
    loss: str = BROAD_LOSS
    mask_weight: float = 0.5
    # A line/spot damage detector feeding the network its mask (``UNetConfig.detector_filters``);
    # a model continued from one without it is grown (``training.unet_grow``). () = keep the
    # architecture of ``init_from``.
    detector_filters: tuple = ()
    detector_weight: float = 0.1        # x (binary cross-entropy + 1 - soft Dice) of the detector's mask
    # "detector": fit the detector's layers only (the rest frozen; a grown model's mask channel
    # stays at zero, so the restored image does not move while the detector learns), the first
    # stage of a two-stage schedule; "" fits everything.
    train_only: str = ""
    variants: int = 6                   # damaged versions per clean training image
    # Damaged versions per validation source and severity: checkpoints are chosen on the
    # validation loss, whose spread between epochs (0.094-0.102 on 36 crops) hid every change.
    val_variants: int = 1
    severity_weights: tuple = (0.34, 0.33, 0.33)
    # Share of training pairs left undamaged (input == target): teaches the network to leave clean
    # content alone, which the first broad run did not (it lowered light images by 3.7 dB).
    clean_fraction: float = 0.1
    # Shares of damaged training pairs from other generators than the broad model
    # (``unet_broad_data.draw_families``), so the network's colour prior is not one generator's:
    # ``legacy`` (the first synthesizer; with a share above 0 the checkpoint is chosen on both
    # families' validation pairs, and both are scored), ``jitter`` (``training.damage_jitter``) and the
    # ageing families (``artrestore.ageing_families``), chosen on the broad validation pairs.
    legacy_fraction: float = 0.0
    jitter_fraction: float = 0.0
    ageing_fraction: float = 0.0
    image_size: int = 512
    seed: int = 0
    workers: int = 0
    notes: str = ""
    # The fitting's compute precision (``TRAIN_PRECISIONS``); validation and the saved weights are
    # float32 whatever it is, so runs in either precision compare and continue each other.
    precision: str = "fp32"


def train(cfg: BroadTrainConfig) -> dict:
    from artrestore.ageing_families import AGEING_FAMILY_NAMES
    from artrestore.dl.arch import import_keras
    from artrestore.dl.contract import TILE, UNetConfig
    from artrestore.dl.tiling import make_context
    from artrestore.dl.weights import load_model, read_metadata, save_weights, update_metadata
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.losses import masked_loss
    from artrestore.training.unet_broad_data import crop_batch, damage_all, draw_families, load_images, validation_pairs
    from artrestore.training.unet_broad_eval import detector_scores, val_scores
    from artrestore.training.unet_grow import DETECTOR_PREFIX, build_mask_model, copy_by_name, training_model

    if cfg.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule={cfg.lr_schedule!r}: expected one of {LR_SCHEDULES}")
    if cfg.precision not in TRAIN_PRECISIONS:
        raise ValueError(f"precision={cfg.precision!r}: expected one of {TRAIN_PRECISIONS}")
    total = 0.0
    for key in ("legacy_fraction", "jitter_fraction", "ageing_fraction"):
        total += getattr(cfg, key)
        if not 0.0 <= getattr(cfg, key) <= 1.0 or total > 1.0 + 1e-9:
            raise ValueError(f"{key}={getattr(cfg, key)}: expected a share in [0, 1], the family shares together at most 1")
    if cfg.init_from and cfg.architecture:
        raise ValueError("architecture applies to fresh models only; a continued model keeps its own")
    _architecture(cfg.architecture)
    keras = import_keras()
    start = time.time()
    keras.utils.set_random_seed(cfg.seed)

    train_clean, train_counts = [], {}
    for folder in cfg.train_dirs:
        images = load_images(folder, cfg.image_size)
        train_counts[pathlib.Path(folder).name] = len(images)
        train_clean += images
    val_clean = load_images(cfg.val_dir, cfg.image_size)
    rng = np.random.default_rng([cfg.seed, 1])
    p = np.asarray(cfg.severity_weights) / np.sum(cfg.severity_weights)
    owners = [i for i in range(len(train_clean)) for _ in range(cfg.variants)]
    severities = [SEVERITIES[int(rng.choice(3, p=p))] for _ in owners]
    seeds = [cfg.seed * 10_000_000 + k for k in range(len(owners))]
    families = draw_families(len(owners), cfg.seed, cfg.legacy_fraction, cfg.jitter_fraction, cfg.ageing_fraction)
    damaged, masks = damage_all([train_clean[o] for o in owners], severities, seeds, cfg.workers, families)
    for k in np.flatnonzero(rng.random(len(owners)) < cfg.clean_fraction):
        damaged[k], masks[k] = train_clean[owners[k]], np.zeros_like(masks[k])
    # The first version of each (source, severity) keeps its seed from before val_variants, so
    # runs with one version validate on the same pairs as earlier runs.
    val_pairs = validation_pairs(val_clean, cfg.val_variants, cfg.workers)
    legacy_pairs = validation_pairs(val_clean, cfg.val_variants, cfg.workers, "legacy") if cfg.legacy_fraction > 0 else []
    log.info("pairs: %d train from %d images (%d legacy, %d jitter), %d val + %d legacy val (%.0fs)", len(damaged),
             len(train_clean), families.count("legacy"), families.count("jitter"), len(val_pairs), len(legacy_pairs),
             time.time() - start)
    contexts = [make_context(d.astype(np.float32) / 255) for d in damaged]

    # Fixed validation crops (centre) for checkpointing.
    def centre(a):
        y0, x0 = (a.shape[0] - TILE) // 2, (a.shape[1] - TILE) // 2
        return a[y0:y0 + TILE, x0:x0 + TILE]
    checkpoint_pairs = val_pairs + legacy_pairs
    val_x = {"image": np.stack([centre(d).astype(np.float32) / 255 for d, _, _, _ in checkpoint_pairs]),
             "context": np.stack([make_context(d.astype(np.float32) / 255) for d, _, _, _ in checkpoint_pairs])}
    val_y = np.stack([np.concatenate([centre(c).astype(np.float32) / 255, centre(m)[..., None].astype(np.float32)], -1)
                      for _, c, m, _ in checkpoint_pairs])

    previous, grown = None, []
    if cfg.init_from:
        source, config, previous = load_model(cfg.init_from)
        if cfg.detector_filters:
            config = dataclasses.replace(config, detector_filters=tuple(cfg.detector_filters))
    else:
        config = UNetConfig(global_context=True, detector_filters=tuple(cfg.detector_filters),
                            **_architecture(cfg.architecture))
        source = None
    policy = None if cfg.precision == "fp32" else COMPUTE_PRECISIONS[cfg.precision]
    fit_model, model = training_model(config, dtype_policy=policy)
    # Scored and saved in float32 whatever the fitting's precision (the same weights).
    scored = model if policy is None else training_model(config)[1]
    if source is not None:
        grown = copy_by_name(source, model)
        log.info("continuing from %s; fresh layers: %s", cfg.init_from, grown or "none")
    detector_weight = cfg.detector_weight if config.detector_filters else 0.0
    if cfg.train_only:
        if cfg.train_only != "detector" or not config.detector_filters:
            raise ValueError(f"train_only={cfg.train_only!r}: only 'detector', on a U-Net with a detector")
        for layer in model.layers:
            layer.trainable = layer.name.startswith(DETECTOR_PREFIX)
    loss = masked_loss(cfg.loss, cfg.mask_weight, detector_weight)
    fit_model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss)
    out_dir = pathlib.Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / "best.weights.h5"

    class Crops(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=8, use_multiprocessing=False, max_queue_size=32)
            self.epoch = 0

        def __len__(self):
            return cfg.steps_per_epoch

        def __getitem__(self, index):
            r = np.random.default_rng([cfg.seed, self.epoch, index])
            return crop_batch(damaged, train_clean, masks, owners, contexts, cfg.batch_size, r, TILE)

        def on_epoch_end(self):
            self.epoch += 1

    class Budget(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if cfg.lr_schedule == "cosine":
                elapsed = max(1 - (budget_end - time.time()) / max(cfg.minutes * 60, 1e-9), epoch / cfg.epochs)
                self.model.optimizer.learning_rate = cosine_lr(cfg.learning_rate, elapsed)

        def on_epoch_end(self, epoch, logs=None):
            log.info("epoch %d: %s (%.0fs)", epoch + 1, {k: round(float(v), 5) for k, v in (logs or {}).items()},
                     time.time() - start)
            if time.time() > budget_end:
                self.model.stop_training = True

    if scored is not model:
        scored.set_weights(model.get_weights())
    before = val_scores(scored, config, val_pairs) if cfg.init_from else None
    legacy_before = val_scores(scored, config, legacy_pairs) if cfg.init_from and legacy_pairs else None
    # The budget is for fitting: the validation just above takes 80-100 s for NAF on 144 images.
    budget_end = time.time() + cfg.minutes * 60
    history = fit_model.fit(Crops(), epochs=cfg.epochs, validation_data=(val_x, val_y), validation_batch_size=16, verbose=2,
                        callbacks=[keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss",
                                                                   save_best_only=True, save_weights_only=True),
                                   Budget()] + ([keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                                                   patience=4, min_lr=1e-6)]
                                                if cfg.lr_schedule == "plateau" else []))
    fit_model.load_weights(str(checkpoint))
    scored.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    losses = history.history
    run = {
        "config": {k: v for k, v in asdict(cfg).items() if k not in ("out_dir",)},
        "damage_model": _damage_version(),
        # split_seed: scripts/pack_training_data.py splits the dataset's sources with seed 0.
        "data": {"train_images_per_folder": train_counts, "val_sources": len(val_clean), "split_seed": 0,
                 "image_size": cfg.image_size,
                 "train_images": len(train_clean), "train_pairs": len(damaged), "val_pairs": len(val_pairs),
                 "train_pairs_legacy": families.count("legacy"), "train_pairs_jitter": families.count("jitter"),
                 "train_pairs_ageing": {name: families.count(name) for name in AGEING_FAMILY_NAMES if name in families},
                 "val_pairs_legacy": len(legacy_pairs)},
        "epochs_run": len(losses["loss"]), "best_epoch": int(np.argmin(losses["val_loss"])) + 1,
        "loss_history": [float(v) for v in losses["loss"]],
        "val_loss_history": [float(v) for v in losses["val_loss"]],
        "validation_before": before, "validation": None,
        "validation_legacy_before": legacy_before, "validation_legacy": None,
        "architecture_grown": grown, "detector_validation_crops": None,
        "backend": keras.backend.backend(),
    }
    # Written before the whole-image validation, which takes minutes for a large validation set:
    # a call whose time limit ends it there still returns a folder that loads and continues.
    save_weights(scored, config, out_dir, _metadata(keras, previous, run))
    validation = val_scores(scored, config, val_pairs)
    validation_legacy = val_scores(scored, config, legacy_pairs) if legacy_pairs else None
    detector = None
    if config.detector_filters:
        # The broad pairs come first in the checkpoint crops; the legacy ones have no mask to score.
        broad = slice(0, len(val_pairs))
        detector = detector_scores(build_mask_model(scored), {k: v[broad] for k, v in val_x.items()},
                                   val_y[broad, ..., 3] > 0.5, [s for _, _, _, s in val_pairs])
    run.update(validation=validation, validation_legacy=validation_legacy, detector_validation_crops=detector,
               seconds=round(time.time() - start, 1))
    update_metadata(out_dir, _metadata(keras, previous, run))
    checkpoint.unlink(missing_ok=True)
    return read_metadata(out_dir)


def _metadata(keras, previous: dict | None, run: dict) -> dict:
    """The U-Net folder's metadata: this run appended to the runs of the model it continued."""
    runs = list((previous or {}).get("runs", []))
    if previous is not None and not runs:
        runs.append({"legacy": {"training": previous.get("training"), "commit": previous.get("commit"),
                                "validation": previous.get("validation")}})
    runs.append(run)
    return {"backend_trained": keras.backend.backend(), "keras_version": keras.__version__,
            "damage_model": run["damage_model"], "data": run["data"], "training": run,
            "validation": run["validation"], "runs": runs,
            "commit": os.environ.get("ARTRESTORE_COMMIT", "unknown")}


def _architecture(text: str) -> dict:
    """``BroadTrainConfig.architecture`` as ``UNetConfig`` keyword arguments (checked by name)."""
    from artrestore.dl.contract import UNetConfig

    overrides = json.loads(text) if text else {}
    known = {f.name for f in dataclasses.fields(UNetConfig)} - {"global_context", "detector_filters"}
    if not isinstance(overrides, dict) or set(overrides) - known:
        raise ValueError(f"architecture={text!r}: expected a JSON object of {sorted(known)}")
    return overrides


def _damage_version() -> str:
    from artrestore.training import broad_damage

    return getattr(broad_damage, "DAMAGE_MODEL_VERSION", "broad")
