"""Paired datasets and their clean sources.

``build_dataset(src, out, ...)`` writes the seed's paired layout per split,
``out/{train,val,test}/{damaged,undamaged}/NAME.png``, plus ``pairs.csv`` (split, file, source,
severity and every damage parameter); ``load_pairs`` reads it back. Sources are split by image,
never by crop (``split_sources``). ``fit_size`` bounds training shapes; ``export_packaged_images``
writes the photographs bundled with scikit-image and scikit-learn as extra training sources.
"""
from __future__ import annotations

import csv
import logging
import os
import pathlib
from dataclasses import dataclass

import cv2
import numpy as np

from artrestore.imageio import IMAGE_SUFFIXES
from artrestore.training.synthesis import SEVERITIES, synthesize_damage

__all__ = ["list_images", "split_sources", "BuildReport", "build_dataset", "fit_size", "export_packaged_images",
           "load_pairs"]

log = logging.getLogger(__name__)


def list_images(folder, recursive: bool = True) -> list[pathlib.Path]:
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def split_sources(sources: list[str], seed: int, fractions=(0.7, 0.15, 0.15)) -> dict[str, str]:
    """Assign each source image (not crop) to train / val / test with a seeded permutation."""
    order = np.random.default_rng(seed).permutation(len(sources))
    n_val = max(1, round(fractions[1] * len(sources)))
    n_test = max(1, round(fractions[2] * len(sources)))
    split = {}
    for rank, idx in enumerate(order):
        split[sources[idx]] = "val" if rank < n_val else "test" if rank < n_val + n_test else "train"
    return split


@dataclass
class BuildReport:
    pairs: int
    failed: list[tuple[str, str]]


def build_dataset(src, out, *, per_image: int = 3, size: int = 512, seed: int = 0,
                  severities=SEVERITIES, progress: bool = True) -> BuildReport:
    """Write a paired dataset from every readable image under ``src``; unreadable files are listed
    in the report and skipped. Each clean image is resized so its short side is ``size`` and
    center-cropped to at most ``size`` x ``size * 1.5``."""
    from tqdm import tqdm

    from artrestore.imageio import read_image, write_image

    src, out = pathlib.Path(src), pathlib.Path(out)
    paths = list_images(src)
    if not paths:
        raise FileNotFoundError(f"no images found under {src}")
    names = [str(p.relative_to(src)) for p in paths]
    split = split_sources(names, seed)
    rows, failed = [], []
    for path, name in tqdm(list(zip(paths, names)), desc="synthesizing", disable=not progress):
        try:
            clean = fit_size(read_image(path), size)
        except (OSError, ValueError) as error:
            failed.append((name, str(error)))
            log.warning("skipping %s: %s", name, error)
            continue
        stem = name.replace(os.sep, "__").rsplit(".", 1)[0]
        for k in range(per_image):
            severity = severities[k % len(severities)]
            damaged, params = synthesize_damage(clean, severity, seed=seed * 1000 + k)
            file = f"{stem}__{k}.png"
            for kind, image in (("damaged", damaged), ("undamaged", clean)):
                write_image(out / split[name] / kind / file, image, overwrite=True)
            rows.append({"split": split[name], "file": file, "source": name, **params})
    if rows:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "pairs.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return BuildReport(pairs=len(rows), failed=failed)


def fit_size(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so the short side is ``size`` (area filter when shrinking), then center-crop the long
    side to at most 1.5 x ``size`` to keep training shapes bounded."""
    h, w = image.shape[:2]
    factor = size / min(h, w)
    if factor != 1:
        interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, (max(size, round(w * factor)), max(size, round(h * factor))), interpolation=interp)
    h, w = image.shape[:2]
    limit = int(size * 1.5)
    top, left = max(0, (h - limit) // 2), max(0, (w - limit) // 2)
    return np.ascontiguousarray(image[top:top + limit, left:left + limit])


# Natural photographs that ship inside scikit-image and scikit-learn (no download): extra
# training-only content for the U-Net, whose 59 training sources are what limits it. Grayscale
# ones are kept (written as RGB) for texture; synthetic ones (colorwheel, logo, text) are not, nor
# astronaut, coffee and chelsea: tests, benchmarks and the bundled samples use them as unseen images.
_PACKAGED_IMAGES = ("rocket", "stereo_motorcycle", "hubble_deep_field", "retina", "immunohistochemistry",
                    "camera", "moon", "brick", "grass", "gravel", "clock", "coins")


def export_packaged_images(out) -> tuple[list[pathlib.Path], list[pathlib.Path]]:
    """Write the photographs bundled with scikit-image and scikit-learn as PNG into ``out``;
    returns ``(written, kept)``: files already there are kept untouched, never overwritten."""
    import skimage.data
    from sklearn.datasets import load_sample_image

    from artrestore.imageio import write_image

    out = pathlib.Path(out)
    # Loaders, so that images already written are not decoded again.
    images = {f"skimage_{name}": getattr(skimage.data, name) for name in _PACKAGED_IMAGES}
    images["skimage_stereo_motorcycle"] = lambda: skimage.data.stereo_motorcycle()[0]  # (left, right, disparity)
    for name in ("china", "flower"):
        images[f"sklearn_{name}"] = lambda name=name: load_sample_image(f"{name}.jpg")
    written, kept = [], []
    for name, load in images.items():
        path = out / f"{name}.png"
        if path.exists():
            kept.append(path)
            continue
        image = np.asarray(load())
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        written.append(write_image(path, np.ascontiguousarray(image[..., :3], dtype=np.uint8)))
    return written, kept


def load_pairs(root, split: str | None = None) -> list[dict]:
    """Rows of ``pairs.csv`` (optionally one split), each with ``damaged`` and ``undamaged`` paths."""
    root = pathlib.Path(root)
    table = root / "pairs.csv"
    if not table.is_file():
        raise FileNotFoundError(f"no pairs.csv in {root}: build one with `artrestore train data`")
    with open(table, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if split is None or r["split"] == split]
    for r in rows:
        r["damaged"] = root / r["split"] / "damaged" / r["file"]
        r["undamaged"] = root / r["split"] / "undamaged" / r["file"]
    return rows
