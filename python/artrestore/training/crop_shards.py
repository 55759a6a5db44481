"""Pack collected training crops into shard files small enough for one device transfer each.

``pack_shards(collected_dir, shard_dir, max_bytes=15 MiB, size=None, seed=0)`` reads
``collected_dir/images.csv`` (written by ``collect_images``), shuffles all crops with a seeded
generator (so any first k shards are a random sample of sources, packages and kinds), and writes
``shard_dir/shard-NNN.tar`` files of at most ``max_bytes`` each plus ``shard_dir/shards.csv`` (shard,
member, package, path, kind, licence, sha256 of the source). Members are WebP files: the crops'
own bytes when ``size`` is None, else the crop area-resized to ``size`` x ``size`` and re-encoded
(WebP quality 90). Uncompressed tar: the WebP data is already compressed.

``load_shard(path) -> (names, images)``: the members in order, decoded to RGB uint8 arrays; no code
is executed and nothing is unpickled. Existing files are never overwritten.
"""
from __future__ import annotations

import csv
import io
import pathlib
import tarfile

import cv2
import numpy as np

from artrestore.training._files import csv_bytes, write_new
from artrestore.training.image_jobs import WEBP_QUALITY

__all__ = ["DEFAULT_SHARD_BYTES", "SHARD_COLUMNS", "load_shard", "pack_shards"]

DEFAULT_SHARD_BYTES = 15 * 2**20
SHARD_COLUMNS = ["shard", "member", "package", "path", "kind", "licence", "sha256"]
_BLOCK, _RECORD = 512, tarfile.RECORDSIZE  # a tar is 512-byte blocks, padded to whole records


def _tar_bytes(member_sizes) -> int:
    """Exact size of an uncompressed tar: a header block per member, data padded to blocks, two
    end blocks, all padded to a whole record."""
    blocks = sum(1 + -(-n // _BLOCK) for n in member_sizes) + 2
    return -(-blocks * _BLOCK // _RECORD) * _RECORD


def pack_shards(collected_dir, shard_dir, *, max_bytes: int = DEFAULT_SHARD_BYTES, size: int | None = None,
                seed: int = 0) -> list[pathlib.Path]:
    """Write shards of at most ``max_bytes``; returns their paths in order."""
    collected_dir, shard_dir = pathlib.Path(collected_dir), pathlib.Path(shard_dir)
    if (shard_dir / "shards.csv").exists():
        raise FileExistsError(f"{shard_dir / 'shards.csv'}: already exists; choose a new folder")
    with open(collected_dir / "images.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    items = [(row, crop) for row in rows for crop in row["crops"].split(";") if crop]
    order = np.random.default_rng(seed).permutation(len(items))
    shards, manifest, members = [], [], []
    for index in order:
        row, crop = items[index]
        data = (collected_dir / crop).read_bytes()
        if size is not None:
            data = _resized_webp(data, size, crop)
        if _tar_bytes([len(data)]) > max_bytes:
            raise ValueError(f"{crop}: {len(data)} bytes do not fit in a {max_bytes}-byte shard")
        if _tar_bytes([len(d) for _, d in members] + [len(data)]) > max_bytes:
            shards.append(_write_shard(shard_dir, len(shards), members))
            members = []
        name = f"{row['package']}/{pathlib.PurePosixPath(crop).name}"
        members.append((name, data))
        manifest.append({"shard": f"shard-{len(shards):03d}.tar", "member": name, "package": row["package"],
                             "path": row["path"], "kind": row["kind"], "licence": row["licence"], "sha256": row["sha256"]})
    if members:
        shards.append(_write_shard(shard_dir, len(shards), members))
    write_new(shard_dir / "shards.csv", csv_bytes(SHARD_COLUMNS, manifest))
    return shards


def _resized_webp(data: bytes, size: int, name: str) -> bytes:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{name}: not a decodable image")
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".webp", small, [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY])
    if not ok:
        raise ValueError(f"{name}: WebP encoding failed")
    return buf.tobytes()


def _write_shard(shard_dir: pathlib.Path, number: int, members) -> pathlib.Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0   # mtime 0: reproducible bytes
            tar.addfile(info, io.BytesIO(data))
    path = shard_dir / f"shard-{number:03d}.tar"
    assert len(buf.getvalue()) == _tar_bytes(len(d) for _, d in members)
    write_new(path, buf.getvalue())
    return path


def load_shard(path) -> tuple[list[str], list[np.ndarray]]:
    """Member names and RGB uint8 images of one shard, in stored order."""
    names, images = [], []
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if not member.isfile():
                continue
            data = tar.extractfile(member).read()
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"{path}: member {member.name} is not a decodable image")
            names.append(member.name)
            images.append(np.ascontiguousarray(image[:, :, ::-1]))
    return names, images
