"""Pack clean training images into compact folders that fit the device tool's 64 MiB per call.

Writes, under OUT (default .devdata/, ignored by git):
  clean_train/  the dataset's train-split sources (data.split_sources, seed 0), short side 512, JPEG q95
  clean_val/    the dataset's val-split sources, same encoding (test sources are never packed)
  extra_K/      training-only crops from --extra folders (e.g. the image collection), JPEG q90,
                split into chunks of at most --chunk-mb MiB so each chunk can travel in its own call;
                by default what the device tool's 64 MiB per call leaves beside the git-tracked
                files (which travel with every call), less a 2 MiB margin
  val_extra/    with --holdout-fraction F: the crops of about F of the --extra source images (all
                crops of one source together, chosen by a hash of its name, so the choice never
                changes), kept out of every extra_K: more validation sources for choices the
                dataset's 12 validation images decide too noisily (the U-Net's hold); only a
                network trained without them (on extra_K packed this way) has never seen them
Usage: python scripts/pack_training_data.py --clean ../shared/data/clean [--extra DIR ...] [--out .devdata]
"""
from __future__ import annotations

import argparse
import hashlib
import pathlib
import subprocess

import cv2

from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size, list_images, split_sources

DEVICE_CALL_MIB = 64   # the working tree one device call may carry
MARGIN_MIB = 2         # untracked notes, logs and the like that travel too


def _encode(image, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("cannot encode an image as JPEG")
    return buf.tobytes()


def _write(image, path: pathlib.Path, quality: int) -> int:
    data = _encode(image, quality)
    path.write_bytes(data)
    return len(data)


def source_group(stem: str) -> str:
    """The source image a crop came from: the collection names crops ``<source>_<k>``."""
    head, _, tail = stem.rpartition("_")
    return head if head and tail.isdigit() else stem


def held_out(stem: str, fraction: float) -> bool:
    """Whether the crop ``stem``'s source image is among the ``fraction`` kept for validation."""
    digest = hashlib.sha256(source_group(stem).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def default_chunk_mib(repo: pathlib.Path) -> float:
    """What one device call can carry beside the git-tracked files of ``repo``, in MiB."""
    names = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=True).stdout
    tracked = sum((repo / n).stat().st_size for n in names.decode().split("\0") if n and (repo / n).is_file())
    return max(1.0, DEVICE_CALL_MIB - MARGIN_MIB - tracked / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--extra", action="append", default=[])
    parser.add_argument("--out", default=".devdata")
    parser.add_argument("--chunk-mb", type=float, default=None,
                        help="MiB per extra_K folder (default: what a device call leaves beside the tracked files)")
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--holdout-fraction", type=float, default=0.0,
                        help="share of the --extra source images kept out of training, in val_extra/")
    args = parser.parse_args()
    if args.chunk_mb is None:
        args.chunk_mb = default_chunk_mib(pathlib.Path(__file__).resolve().parents[1])
        print(f"chunks of at most {args.chunk_mb:.1f} MiB (64 MiB per device call, less the tracked files)")
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
            data = _encode(image, 90)
            name = f"{pathlib.Path(extra).name}__{p.stem}.jpg"
            if held_out(p.stem, args.holdout_fraction):
                (out / "val_extra").mkdir(parents=True, exist_ok=True)
                (out / "val_extra" / name).write_bytes(data)
                continue
            if used and used + len(data) > args.chunk_mb * 2**20:
                chunk, used = chunk + 1, 0.0
            folder = out / f"extra_{chunk}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            used += len(data)
    for folder in sorted(out.iterdir()):
        files = list(folder.glob("*.jpg"))
        print(f"{folder}: {len(files)} images, {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
