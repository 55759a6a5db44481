"""The ONNX export's data: int8 calibration crops from the U-Net's *training* sources and validation
pairs from its *validation* sources (the dataset's split rule; never test images, never the check
family), damaged by the damage model the U-Net was trained on (its metadata's ``damage_model``: the
broad model, else the legacy synthesizer); and ``validate``: mean PSNR / SSIM per severity of each
runtime on those pairs; ``keras_restore`` (the Keras reference path) and ``fp32_difference`` (the
fp32 graph against Keras). Images are RGB uint8; feeds are float32 in [0, 1].
"""
from __future__ import annotations

import pathlib

import numpy as np

from artrestore import dl, metrics
from artrestore._validate import to_uint8

CALIBRATION_CROPS = 64


# --------------------------------------------------------------------------------------------
# Data: calibration crops (training sources) and validation pairs (validation sources)
# --------------------------------------------------------------------------------------------

def split_settings(meta: dict, split_seed: int | None = None, image_size: int | None = None) -> dict:
    """The training run's split seed and image size: given, else from its metadata ("data"); a
    model whose metadata lacks them needs them given (a wrong seed would calibrate on validation
    images and validate on training ones)."""
    data = meta.get("data", {})
    split_seed = data.get("split_seed") if split_seed is None else split_seed
    if split_seed is None:
        raise ValueError("the U-Net's metadata has no data.split_seed: pass the seed its training split "
                         "sources with (split_seed=..., --split-seed)")
    return {"split_seed": int(split_seed), "image_size": int(image_size or data.get("image_size", 512))}


def _sources(clean_dir, meta: dict, split: str) -> list[np.ndarray]:
    """The clean images of one split, with the training run's split seed and image size
    (``meta["data"]``, completed by ``split_settings``)."""
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size, list_images, split_sources

    clean_dir = pathlib.Path(clean_dir)
    paths = list_images(clean_dir)
    if not paths:
        raise FileNotFoundError(f"no images under {clean_dir}")
    names = [str(p.relative_to(clean_dir)) for p in paths]
    data = meta["data"]
    assignment = split_sources(names, int(data["split_seed"]))
    size = int(data["image_size"])
    return [fit_size(read_image(p), size) for p, n in zip(paths, names) if assignment[n] == split]


def _broad_damage(clean: np.ndarray, severity: str, seed: int) -> np.ndarray:
    from artrestore.training.broad_damage import broad_damage

    return broad_damage(clean, severity, seed)[0]


def _default_damage(clean: np.ndarray, severity: str, seed: int) -> np.ndarray:
    from artrestore.training.synthesis import synthesize_damage

    return synthesize_damage(clean, severity, seed)[0]


def every_family_damage(clean: np.ndarray, severity: str, seed: int) -> np.ndarray:
    """Damage by each training family in turn (``unet_broad_data.DAMAGE_FAMILIES[seed % 7]``): int8
    calibration crops whose activation ranges hold on every family, not only the training one
    (docs/cpu_runtime.md, "int8 calibrated on every training family")."""
    from artrestore.training.unet_broad_data import DAMAGE_FAMILIES, family_image

    return family_image(clean, severity, seed, DAMAGE_FAMILIES[seed % len(DAMAGE_FAMILIES)])


def validation_pairs(clean_dir, meta: dict, limit: int | None = None, seed: int = 1, damage=None):
    """(damaged, clean, severity) uint8 pairs: every validation source at each severity (rotating
    through the severities when ``limit`` is smaller than that). ``damage(clean, severity, seed)``
    -> damaged uint8: the damage model the U-Net was trained on (default ``training.synthesis.synthesize_damage``)."""
    from artrestore.training.synthesis import SEVERITIES

    damage = damage or _default_damage
    cleans = _sources(clean_dir, meta, "val")
    if limit is None:
        jobs = [(i, s) for i in range(len(cleans)) for s in SEVERITIES]
    else:
        jobs = [(i % len(cleans), SEVERITIES[i % len(SEVERITIES)]) for i in range(limit)]
    return [(damage(cleans[i], s, seed + i), cleans[i], s) for i, s in jobs]


def calibration_inputs(clean_dir, meta: dict, count: int = CALIBRATION_CROPS, seed: int = 0,
                       damage=None) -> list[dict]:
    """``count`` feeds {"image": 1 x 256 x 256 x 3, "context": 1 x 128 x 128 x 3} float32: random
    crops of training sources damaged at the training's severity mix, each with its image's
    thumbnail (no "context" for a model without the global branch). ``damage``: as in
    ``validation_pairs``."""
    damage = damage or _default_damage
    global_context = bool(meta.get("architecture", {}).get("global_context"))
    from artrestore.training.synthesis import SEVERITIES

    cleans = _sources(clean_dir, meta, "train")
    weights = np.asarray(meta.get("data", {}).get("severity_weights", (1, 1, 1)), float)
    rng = np.random.default_rng(seed)
    feeds = []
    for k in range(count):
        clean = cleans[k % len(cleans)]
        severity = SEVERITIES[rng.choice(3, p=weights / weights.sum())]
        damaged = damage(clean, severity, seed * 100000 + k).astype(np.float32) / 255
        y0 = int(rng.integers(damaged.shape[0] - dl.TILE + 1))
        x0 = int(rng.integers(damaged.shape[1] - dl.TILE + 1))
        feed = {dl.SIGNATURE_INPUT: np.ascontiguousarray(damaged[None, y0:y0 + dl.TILE, x0:x0 + dl.TILE])}
        if global_context:
            feed[dl.SIGNATURE_CONTEXT] = dl.make_context(damaged)[None]
        feeds.append(feed)
    return feeds


def validate(restorers: dict, pairs) -> dict:
    """Mean PSNR / SSIM (overall and per severity) of each restorer on the pairs, and the input's."""
    scores: dict = {name: {} for name in ["input", *restorers]}
    for damaged, clean, severity in pairs:
        outputs = {"input": damaged, **{name: fn(damaged) for name, fn in restorers.items()}}
        for name, out in outputs.items():
            for key in (severity, "all"):
                scores[name].setdefault(key, []).append((metrics.psnr(out, clean), metrics.ssim(out, clean)))
    return {name: {key: {"pairs": len(v), "psnr": round(float(np.mean([a for a, _ in v])), 4),
                         "ssim": round(float(np.mean([b for _, b in v])), 4)} for key, v in per.items()}
            for name, per in scores.items()}


def keras_restore(model, config):
    """The Keras runtime's path on a CPU (``dl.UNetRestorer``): one pass up to
    ``dl.tiling.MAX_PASS_PIXELS``, larger images in budgeted tiles, as the ONNX runtime tiles them."""
    from artrestore.dl.tiling import tiled_run

    def restore(image):
        x = image.astype(np.float32) / 255
        context = dl.make_context(x) if config.global_context else None
        predict = lambda tiles: np.clip(np.asarray(model(dl.model_inputs(config, tiles, context), training=False)),
                                        0.0, 1.0)
        return to_uint8(tiled_run(x, predict))

    return restore


def fp32_difference(model, config, unet, pairs) -> float:
    """Largest |ONNX fp32 - Keras| over a batch of 256^2 tiles and one whole-image pass."""
    damaged = pairs[0][0].astype(np.float32) / 255
    h, w = (s // 16 * 16 for s in damaged.shape[:2])
    tiles = np.stack([damaged[:dl.TILE, :dl.TILE], damaged[h - dl.TILE:h, w - dl.TILE:w]])
    context = dl.make_context(damaged) if config.global_context else None
    worst = 0.0
    for batch in (tiles, damaged[None, :h, :w]):
        keras_out = np.clip(np.asarray(model(dl.model_inputs(config, batch, context), training=False)), 0, 1)
        worst = max(worst, float(np.abs(unet.predict_tiles(batch, context) - keras_out).max()))
    return worst
