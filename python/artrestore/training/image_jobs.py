"""Per-source work of the image collection, run in worker processes, and the dedupe across sources.

- ``examine((path, criteria, max_short_side)) -> dict``: decode, measure, hash one file; the dict
  has ``reason`` when the file is dropped, else its size, statistics, pHash and a 32 x 32 thumbnail.
- ``dedupe(records, dropped, hash_distance) -> kept``: one record per picture, the largest.
- ``write_crops((path, sha256, folder, side, count, max_short_side, seed, criteria)) -> [paths]``:
  the training crops of one source as WebP files (existing files are left alone).
"""
from __future__ import annotations

import hashlib
import logging
import pathlib

import cv2
import numpy as np

from artrestore.training import image_select as sel
from artrestore.training._files import write_new

__all__ = ["WEBP_QUALITY", "dedupe", "examine", "write_crops"]

log = logging.getLogger(__name__)

WEBP_QUALITY = 90


def examine(job) -> dict:
    """Decode, measure and hash one file (runs in a worker)."""
    path, criteria, max_short_side = job
    data = pathlib.Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        rgba = sel.decode_rgba(data, path)
    except ValueError as exc:
        return {"reason": f"undecodable: {exc}", "sha256": digest}
    h, w = rgba.shape[:2]
    if min(h, w) < criteria.min_short_side:
        return {"reason": f"small: {w}x{h} < {criteria.min_short_side} px", "sha256": digest}
    work = sel.working_copy(rgba, max_short_side)
    stats = sel.measure(work, criteria)
    reason = sel.reject_reason(stats, criteria)
    if reason:
        return {"reason": reason, "sha256": digest}
    rgb = sel.composite(work)
    thumb = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
    return {"sha256": digest, "width": w, "height": h, "colours": stats.colours,
                "flat_fraction": round(stats.flat_fraction, 4), "texture_fraction": round(stats.texture_fraction, 4),
                "dark_fraction": round(stats.dark_fraction, 4), "phash": sel.perceptual_hash(rgb),
                "thumb": thumb.tobytes()}


def _same_picture(a: dict, b: dict, hash_distance: int) -> bool:
    if a["sha256"] == b["sha256"]:
        return True
    if abs(a["width"] / a["height"] - b["width"] / b["height"]) > 0.02:
        return False
    if sel.hamming(a["phash"], b["phash"]) > hash_distance:
        return False
    # pHash alone merges pictures that share a layout (manuscript pages with the same frame); the
    # 32 x 32 thumbnails must agree too (mean absolute grey difference, 0-255).
    ta = np.frombuffer(a["thumb"], np.uint8).astype(np.int16)
    tb = np.frombuffer(b["thumb"], np.uint8).astype(np.int16)
    return float(np.abs(ta - tb).mean()) <= 6.0


def dedupe(records: list[dict], dropped: list, hash_distance: int) -> list[dict]:
    """Keep the largest of each set of same pictures (ties: the first in package/path order)."""
    order = sorted(range(len(records)), key=lambda i: (-records[i]["width"] * records[i]["height"], i))
    kept: list[dict] = []
    for i in order:
        r = records[i]
        twin = next((k for k in kept if _same_picture(r, k, hash_distance)), None)
        if twin is None:
            kept.append(r)
        else:
            dropped.append((r["package"], r["path"], f"duplicate of {twin['package']}:{twin['path']}", r["sha256"]))
    position = {id(r): i for i, r in enumerate(records)}
    return sorted(kept, key=lambda r: position[id(r)])


def write_crops(job) -> list[str]:
    """Write up to ``count`` crops of one source; returns their paths (runs in a worker)."""
    path, digest, folder, side, count, max_short_side, seed, criteria = job
    rgba = sel.decode_rgba(pathlib.Path(path).read_bytes(), path)
    work = sel.working_copy(rgba, max_short_side)
    side = min(side, min(work.shape[:2]) // 16 * 16)
    rgb = sel.composite(work)
    rng = np.random.default_rng([seed, int(digest[:16], 16)])
    composed = np.dstack([rgb, work[:, :, 3]])
    windows = []
    # Cut-outs and small images rarely have a good full-size window: try 3/4 of the side, then the
    # smallest allowed, before giving up.
    for size in dict.fromkeys([side, side * 3 // 4 // 16 * 16, criteria.min_short_side]):
        if criteria.min_short_side <= size <= side:
            windows = sel.choose_crops(composed, size, count, rng, criteria)
            if windows:
                side = size
                break
    written = []
    for k, (y, x) in enumerate(windows):
        target = pathlib.Path(folder) / f"{digest[:16]}_{k}.webp"
        ok, buf = cv2.imencode(".webp", np.ascontiguousarray(rgb[y:y + side, x:x + side, ::-1]),
                               [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY])
        if not ok:
            raise ValueError(f"{path}: WebP encoding failed")
        try:
            write_new(target, buf.tobytes())
        except FileExistsError:
            log.warning("%s: exists, left as it is (not overwritten)", target)
        written.append(str(target))
    return written
