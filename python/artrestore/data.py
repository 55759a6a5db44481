"""Damage synthesis and paired datasets.

``synthesize_damage(clean, severity, seed)``: clean RGB uint8 H x W x 3 in, a damaged image of the
same shape out, plus a dict of the damage parameters drawn. Deterministic for a given
(image, severity, seed). Damage, applied in the order real prints age and are scanned:
fading with lifted blacks, colour cast / yellowing, stains, craquelure cracks, scratches, dust
spots, blur, noise + film grain, JPEG artefacts.

``build_dataset(src, out, ...)`` writes the seed's paired layout per split,
``out/{train,val,test}/{damaged,undamaged}/NAME.png``, plus ``pairs.csv`` (split, file, source,
severity and every damage parameter). Sources are split by image, never by crop.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import pathlib
from dataclasses import dataclass

import cv2
import numpy as np

from artrestore._validate import as_rgb, to_uint8

log = logging.getLogger(__name__)

SEVERITIES = ("light", "moderate", "severe")

# (low, high) ranges per severity; lengths in pixels are for a 512 px short side and scale with it.
_RANGES = {
    "light": dict(fade=(0.0, 0.12), lift=(0, 12), cast=(0.0, 0.06), yellow=(0.0, 0.05), blur=(0.0, 0.8),
                  noise=(0.0, 4.0), grain=(0.0, 2.0), jpeg=(80, 95), scratches=(0, 2), cracks=(0, 0),
                  spots=(0, 6), stains=(0, 0)),
    "moderate": dict(fade=(0.1, 0.28), lift=(8, 28), cast=(0.04, 0.14), yellow=(0.03, 0.12), blur=(0.8, 1.6),
                     noise=(3.0, 8.0), grain=(1.0, 4.0), jpeg=(50, 80), scratches=(2, 7), cracks=(0, 25),
                     spots=(6, 24), stains=(0, 2)),
    "severe": dict(fade=(0.22, 0.45), lift=(20, 50), cast=(0.1, 0.28), yellow=(0.08, 0.22), blur=(1.5, 3.0),
                   noise=(6.0, 14.0), grain=(2.0, 7.0), jpeg=(20, 50), scratches=(5, 16), cracks=(20, 80),
                   spots=(20, 70), stains=(1, 5)),
}


def _seed_for(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    # Mixing a digest of the pixels in lets one seed give different damage to different images.
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=8).digest()
    return np.random.default_rng([seed, SEVERITIES.index(severity), int.from_bytes(digest, "little")])


def synthesize_damage(clean, severity: str = "moderate", seed: int = 0, *,
                      damage: dict | None = None) -> tuple[np.ndarray, dict]:
    """Damage a clean RGB uint8 image; returns ``(damaged uint8, parameters)``.

    ``damage`` replaces the random draw with exact amounts (keys as in the returned parameters:
    fade, lift, cast, yellow, blur, noise, grain, jpeg, scratches, cracks, spots, stains); keys
    left out mean none of that damage (jpeg 100), which isolates one kind of damage for tests.
    """
    if severity not in _RANGES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    clean = as_rgb(clean)
    if clean.dtype != np.uint8:
        clean = to_uint8(clean)
    rng = _seed_for(clean, severity, seed)
    ranges = _RANGES[severity]
    draw = {k: (float(rng.uniform(*v)) if isinstance(v[0], float) else int(rng.integers(v[0], v[1] + 1)))
            for k, v in ranges.items()}
    if damage is not None:
        unknown = set(damage) - set(ranges)
        if unknown:
            raise ValueError(f"unknown damage keys {sorted(unknown)}; use {sorted(ranges)}")
        draw = {k: type(v[0])(damage.get(k, 100 if k == "jpeg" else 0)) for k, v in ranges.items()}
    h, w = clean.shape[:2]
    scale = min(h, w) / 512.0
    x = clean.astype(np.float32)

    # Fading compresses contrast toward paper white-grey and lifts the blacks.
    x = x * (1 - draw["fade"]) + draw["fade"] * 200.0 + draw["lift"] * (1 - x / 255.0)
    # Colour cast: a random per-channel gain, plus yellowing (blue loss, red/green warmth).
    cast = 1 + rng.uniform(-draw["cast"], draw["cast"], 3)
    yellow = np.array([1 + draw["yellow"] * 0.3, 1 + draw["yellow"] * 0.1, 1 - draw["yellow"]])
    x = x * (cast * yellow).astype(np.float32)

    # Stains: large soft brownish blobs multiplied in.
    if draw["stains"]:
        mask = np.zeros((h, w), np.float32)
        for _ in range(draw["stains"]):
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.uniform(0.05, 0.2) * w), int(rng.uniform(0.05, 0.2) * h))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.15, 0.45)), -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, 12 * scale))
        tint = np.array([0.75, 0.6, 0.35], np.float32)
        x = x * (1 - mask[..., None] * (1 - tint))

    overlay = np.zeros((h, w), np.float32)  # signed: dark cracks < 0 < bright scratches
    thickness = max(1, int(round(scale)))
    # Craquelure: short jagged random walks of dark hairlines.
    for _ in range(draw["cracks"]):
        p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, 2 * np.pi)
        pts = [p.copy()]
        for _ in range(int(rng.integers(4, 12))):
            angle += rng.normal(0, 0.6)
            p = p + rng.uniform(6, 18) * scale * np.array([np.cos(angle), np.sin(angle)])
            pts.append(p.copy())
        cv2.polylines(overlay, [np.int32(pts)], False, -float(rng.uniform(60, 120)), thickness)
    # Scratches: long, nearly straight bright or dark lines.
    for _ in range(draw["scratches"]):
        a = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.2, 0.8) * max(h, w)
        b = a + length * np.array([np.cos(angle), np.sin(angle)])
        sign = 1 if rng.random() < 0.7 else -1
        cv2.line(overlay, tuple(map(int, a)), tuple(map(int, b)), sign * float(rng.uniform(70, 160)), thickness)
    # Dust spots.
    for _ in range(draw["spots"]):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        radius = max(1, int(rng.uniform(1, 4) * scale))
        cv2.circle(overlay, centre, radius, float(rng.choice([-1, 1]) * rng.uniform(60, 140)), -1)
    x = x + overlay[..., None]

    if draw["blur"] > 0.05:
        x = cv2.GaussianBlur(x, (0, 0), draw["blur"] * scale)
    # Sensor noise (per channel) and film grain (soft, shared by the channels, stronger in midtones).
    noise = rng.normal(0, 1, x.shape).astype(np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.8)
    midtones = 4 * (x.mean(axis=2) / 255) * (1 - x.mean(axis=2) / 255)
    x = x + draw["noise"] * noise + (draw["grain"] * 2.5 * grain * np.clip(midtones, 0, 1))[..., None]

    damaged = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if draw["jpeg"] < 100:
        ok, encoded = cv2.imencode(".jpg", damaged[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, draw["jpeg"]])
        damaged = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1])
    draw.update(severity=severity, seed=seed, cast_r=float(cast[0]), cast_g=float(cast[1]), cast_b=float(cast[2]))
    return damaged, draw


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


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
