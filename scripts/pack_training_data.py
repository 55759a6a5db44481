"""Pack clean training images into compact folders that fit the device tool's 64 MiB per call.

Writes, under OUT (default .devdata/, ignored by git):
  clean_train/  the dataset's train-split sources (data.split_sources, seed 0), short side 512, JPEG q95
  clean_val/    the dataset's val-split sources, same encoding (test sources are never packed)
  extra_K/      training-only crops from --extra folders (e.g. the image collection), JPEG q90,
                split into chunks of at most --chunk-mb MiB so each chunk can travel in its own call
Usage: python scripts/pack_training_data.py --clean ../shared/data/clean [--extra DIR ...] [--out .devdata]
"""
from __future__ import annotations

import argparse
import pathlib

import cv2

from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size, list_images, split_sources


def _write(image, path: pathlib.Path, quality: int) -> int:
    ok, buf = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot encode {path}")
    path.write_bytes(buf.tobytes())
    return len(buf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--extra", action="append", default=[])
    parser.add_argument("--out", default=".devdata")
    parser.add_argument("--chunk-mb", type=float, default=40)
    parser.add_argument("--max-side", type=int, default=512)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    clean = pathlib.Path(args.clean)
    paths = list_images(clean)
    names = [str(p.relative_to(clean)) for p in paths]
    split = split_sources(names, 0)
    for part in ("train", "val"):
        folder = out / f"clean_{part}"
        folder.mkdir(parents=True, exist_ok=True)
        for p, n in zip(paths, names):
            if split[n] == part:
                _write(fit_size(read_image(p), 512), folder / (n.replace("/", "__") + ".jpg"), 95)
    chunk, used = 0, 0.0
    for extra in args.extra:
        for p in list_images(extra):
            image = read_image(p)
            scale = args.max_side / max(image.shape[:2])
            if scale < 1:
                image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                                   interpolation=cv2.INTER_AREA)
            if min(image.shape[:2]) < 256:
                continue
            if used > args.chunk_mb * 2**20:
                chunk, used = chunk + 1, 0.0
            folder = out / f"extra_{chunk}"
            folder.mkdir(parents=True, exist_ok=True)
            used += _write(image, folder / f"{pathlib.Path(extra).name}__{p.stem}.jpg", 90)
    for folder in sorted(out.iterdir()):
        files = list(folder.glob("*.jpg"))
        print(f"{folder}: {len(files)} images, {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
