"""Pairs and crops for U-Net training on the broad damage model (``training.unet_broad``).

``read_rgb(path)``: a uint8 RGB image, None when unreadable or under 256 px a side.
``load_images(folder, image_size)``: every readable image of a folder, short side at most
``image_size`` px.
``damage_one(clean, severity, seed, family)``: one damaged image and its line/spot mask.
``damage_all(cleans, severities, seeds, families=None)``: the damage of every (clean, severity,
seed) in a process pool, by the broad damage model or, per pair, another ``DAMAGE_FAMILIES``
generator: lists of damaged uint8 RGB images and their line/spot damage masks (bool H x W; all
false for the ``legacy`` synthesizer, which returns none).
``draw_families(n, seed, legacy, jitter, ageing)``: the family of each training pair.
``family_image(clean, severity, seed, family)``: the damaged image alone, by a training or a choosing
family.
``validation_pairs(val_clean, draws, workers, family)``: the fixed validation pairs (damaged,
clean, mask, severity) of ``val_plan``, damaged by one family.
``val_damage_seed(source, severity, draw, draws)``: the broad damage seed of a validation pair,
shared by the trainer's checkpoint choice and the hold's choice (``training.unet_hold``).
``crop_batch(...)``: one training batch of random ``tile`` crops with rotations, flips and a
random per-channel gain: ``({"image", "context"}, target)``, target N x tile x tile x 4 (clean RGB
in [0, 1] and the damage mask). Training only.
"""
from __future__ import annotations

import os
import pathlib
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from artrestore.ageing_families import AGEING_FAMILY_NAMES, ageing_damage

__all__ = ["read_rgb", "load_images", "damage_one", "damage_all", "crop_batch", "val_damage_seed", "val_plan",
           "validation_pairs", "VAL_SEED0", "EXTRA_SEED0", "DAMAGE_FAMILIES", "CHOOSING_FAMILY_NAMES",
           "proxy_family_damage", "family_image", "draw_families"]

VAL_SEED0 = 900_000    # the first damaged version of each validation (source, severity)
EXTRA_SEED0 = 950_000  # the versions after the first (``val_variants`` / ``--draws``)
# Damage generators a training pair may come from: the broad damage model (``training.broad_damage``)
# and the project's first synthesizer (``training.synthesis``), whose fading, cast and cracks are
# drawn differently, and ``jitter``: the broad model on an image whose colour and tone were first
# randomised (``training.damage_jitter``), and the ageing families (``artrestore.ageing_families``:
# more generators, each written apart). Never the check family, which stays a test.
DAMAGE_FAMILIES = ("broad", "legacy", "jitter", *AGEING_FAMILY_NAMES)
# Damage generators used to choose (a hold, a margin, a setting) and never as a training pair: the
# proxy family (``artrestore.proxy_family``, docs/damage.md).
CHOOSING_FAMILY_NAMES = ("proxy",)


def proxy_family_damage(clean, severity: str, seed: int) -> np.ndarray:
    """The damaged uint8 image alone of the proxy family (``artrestore.proxy_family``): for choosing
    and measuring; no training pair is ever made with it (``damage_one`` knows only ``DAMAGE_FAMILIES``)."""
    from artrestore.proxy_family import proxy_damage

    return proxy_damage(clean, severity, seed)[0]


def family_image(clean, severity: str, seed: int, family: str) -> np.ndarray:
    """The damaged uint8 image alone by a training family (``DAMAGE_FAMILIES``, ``damage_one``) or a
    choosing family (``CHOOSING_FAMILY_NAMES``: the proxy family, never a training pair)."""
    if family in CHOOSING_FAMILY_NAMES:
        return proxy_family_damage(clean, severity, seed)
    return damage_one(clean, severity, seed, family)[0]


def val_damage_seed(source: int, severity: int, draw: int, draws: int) -> int:
    """The broad damage seed of validation source ``source``, severity index ``severity`` and draw
    ``draw`` of ``draws``. The first draw keeps the seed runs with one version used, so their
    pairs stay a subset of every larger validation set."""
    if draw == 0:
        return VAL_SEED0 + 3 * source + severity
    return EXTRA_SEED0 + 3 * (source * draws + draw) + severity


def val_plan(n_sources: int, draws: int) -> tuple[list[int], list[str], list[int]]:
    """The validation pairs of ``n_sources`` clean images with ``draws`` damaged versions per
    severity: (source index, severity name, damage seed) per pair, source by source, severities
    cycling light / moderate / severe within each draw."""
    from artrestore.training.damage_ranges import SEVERITIES

    per_source = 3 * draws
    sources = [k // per_source for k in range(per_source * n_sources)]
    severities = [SEVERITIES[k % 3] for k in range(len(sources))]
    seeds = [val_damage_seed(i, k % 3, (k % per_source) // 3, draws) for k, i in enumerate(sources)]
    return sources, severities, seeds


def read_rgb(path: pathlib.Path) -> np.ndarray | None:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or min(image.shape[:2]) < 256:
        return None
    return np.ascontiguousarray(image[:, :, ::-1])


def load_images(folder, image_size: int) -> list[np.ndarray]:
    """Every image of ``folder`` ``read_rgb`` accepts, shrunk to a short side of ``image_size`` px."""
    from artrestore.training.datasets import fit_size, list_images

    found = [im for im in (read_rgb(p) for p in list_images(folder)) if im is not None]
    return [fit_size(im, image_size) if min(im.shape[:2]) > image_size else im for im in found]


def damage_one(clean, severity: str, seed: int, family: str = "broad") -> tuple[np.ndarray, np.ndarray]:
    """(damaged uint8 RGB, line/spot mask bool H x W) of ``clean`` by one ``DAMAGE_FAMILIES``
    generator; the ``legacy`` synthesizer returns no mask (all false); ``jitter`` is the broad model on
    ``colour_jitter(clean)`` (the pair's target stays ``clean``)."""
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.damage_jitter import colour_jitter
    from artrestore.training.synthesis import synthesize_damage

    if family == "legacy":
        return synthesize_damage(clean, severity, seed)[0], np.zeros(clean.shape[:2], bool)
    if family in AGEING_FAMILY_NAMES:
        return ageing_damage(family, clean, severity, seed)[:2]
    if family == "jitter":
        clean = colour_jitter(clean, severity, seed)[0]
    elif family != "broad":
        raise ValueError(f"family={family!r}: expected one of {DAMAGE_FAMILIES}")
    damaged, mask, _ = broad_damage(clean, severity, seed)
    return damaged, mask


def draw_families(n: int, seed: int, legacy: float = 0.0, jitter: float = 0.0, ageing: float = 0.0) -> list[str]:
    """The ``DAMAGE_FAMILIES`` name of each of ``n`` training pairs: shares ``legacy``, ``jitter`` and
    ``ageing`` (split evenly between ``AGEING_FAMILY_NAMES``), the rest ``broad``. Drawn from
    generators of their own, so runs without some family draw exactly what they drew before it existed."""
    u = np.random.default_rng([seed, 2]).random(n)
    pick = np.random.default_rng([seed, 3]).integers(len(AGEING_FAMILY_NAMES), size=n)
    return ["legacy" if v < legacy else "jitter" if v < legacy + jitter
            else AGEING_FAMILY_NAMES[k] if v < legacy + jitter + ageing else "broad" for v, k in zip(u, pick)]


def _damage_one(args):
    damaged, mask = damage_one(*args)
    return damaged, np.packbits(mask.astype(bool), axis=None), mask.shape


def damage_all(cleans, severities, seeds, workers: int = 0, families=None):
    """Damage for every (clean, severity, seed), by ``families`` (one ``DAMAGE_FAMILIES`` name per
    pair; None: all broad): lists of damaged uint8 and bool masks."""
    families = ["broad"] * len(cleans) if families is None else list(families)
    unknown = set(families) - set(DAMAGE_FAMILIES)
    if unknown or len(families) != len(cleans):
        raise ValueError(f"families: expected one of {DAMAGE_FAMILIES} per image, got {sorted(unknown) or len(families)}")
    jobs = list(zip(cleans, severities, seeds, families))
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        out = list(pool.map(_damage_one, jobs, chunksize=4))
    damaged = [d for d, _, _ in out]
    masks = [np.unpackbits(m, count=int(np.prod(s))).reshape(s).astype(bool) for _, m, s in out]
    return damaged, masks


def validation_pairs(val_clean, draws: int, workers: int = 0, family: str = "broad",
                     limit: int | None = None) -> list[tuple]:
    """(damaged, clean, mask, severity) for every pair of ``val_plan(len(val_clean), draws)`` (the
    first ``limit`` of them), damaged by ``family`` with the plan's seeds (so every family is scored
    on the same sources and seeds)."""
    sources, severities, seeds = (v[:limit] for v in val_plan(len(val_clean), draws))
    damaged, masks = damage_all([val_clean[i] for i in sources], severities, seeds, workers, [family] * len(sources))
    return [(d, val_clean[i], m, s) for d, m, i, s in zip(damaged, masks, sources, severities)]


def crop_batch(damaged, cleans, masks, owners, contexts, batch_size, rng, tile):
    xs, ys, cs = [], [], []
    for _ in range(batch_size):
        j = int(rng.integers(len(damaged)))
        d, c, m = damaged[j], cleans[owners[j]], masks[j]
        y0 = int(rng.integers(d.shape[0] - tile + 1))
        x0 = int(rng.integers(d.shape[1] - tile + 1))
        k, flip = int(rng.integers(4)), rng.random() < 0.5
        gain = rng.uniform(0.92, 1.08, 3).astype(np.float32)

        def geo(a, k=k, flip=flip):
            a = np.rot90(a, k)
            return a[:, ::-1] if flip else a

        x = geo(d[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255) * gain
        y = geo(c[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255) * gain
        mm = geo(m[y0:y0 + tile, x0:x0 + tile, None].astype(np.float32))
        xs.append(x)
        ys.append(np.concatenate([y, mm], axis=-1))
        cs.append(geo(contexts[j]) * gain)
    return {"image": np.stack(xs), "context": np.stack(cs)}, np.stack(ys)
