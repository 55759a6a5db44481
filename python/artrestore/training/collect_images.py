"""Collect training images (photographs, paintings) from Debian packages, reproducibly, with licences.

``collect_images(out_dir, ...)`` downloads each package's .deb (``apt-get download``; no install),
unpacks it in a temporary folder, keeps the raster images its ``PackageSpec`` names, drops small
images, non-photographic art (``image_select.Criteria``) and duplicates (the same picture at several
sizes: the largest is kept), and writes into ``out_dir``:

- ``crops/PACKAGE/SHA16_K.webp``: up to ``crops_per_image`` square crops per image, side ``crop``
  pixels (smaller images: their short side, at least ``Criteria.min_short_side``), WebP quality 90,
  taken from a working copy whose short side is at most ``max_short_side`` pixels;
- ``images.csv``: one row per kept source (package, version, path, licence, copyright holder, how
  the licence was found, kind photo/painting/render, sha256 of the source file, size, crop files);
- ``dropped.csv``: every image left out and why; ``report.json``: counts and every parameter.

Nothing in ``out_dir`` is ever overwritten: an existing ``images.csv`` refuses the run, files are
written to a temporary name and linked into place. Training only: the runtime never imports this.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import fnmatch
import hashlib
import json
import logging
import multiprocessing
import os
import pathlib
import sys
import tempfile

import numpy as np

from artrestore.imageio import IMAGE_SUFFIXES, _declared_size
from artrestore.training import image_jobs
from artrestore.training import image_select as sel
from artrestore.training._files import csv_bytes, write_new
from artrestore.training.debsource import Copyright, apt_download, unpack
from artrestore.training.image_packages import DEFAULT_PACKAGES, PackageSpec

__all__ = ["DEFAULT_PACKAGES", "KINDS", "PackageSpec", "collect_images", "main", "register", "run"]

log = logging.getLogger(__name__)

KINDS = ("photo", "painting", "render")   # painting: paintings and drawings; render: 3D/CG scenes
IMAGE_COLUMNS = ["package", "version", "path", "licence", "copyright", "licence_source", "kind",
                 "sha256", "width", "height", "colours", "flat_fraction", "texture_fraction",
                 "dark_fraction", "crops"]
DROPPED_COLUMNS = ["package", "path", "reason", "sha256"]


def collect_images(out_dir, *, packages=DEFAULT_PACKAGES, crop: int = 512, crops_per_image: int = 4,
                   max_per_package: int | None = None, max_short_side: int = 1024, seed: int = 0,
                   criteria: sel.Criteria | None = None, hash_distance: int = 8,
                   download=None, deb_cache=None, workers: int = 1) -> dict:
    """Collect, filter, dedupe and crop; returns the report written to ``out_dir/report.json``.

    ``download(package, dest_dir) -> path of a .deb`` is injectable (default ``apt_download``;
    tests pass a local .deb);
    ``deb_cache`` keeps downloaded .debs between runs (default: a temporary folder).
    """
    out_dir = pathlib.Path(out_dir)
    criteria = criteria or sel.Criteria()
    if (out_dir / "images.csv").exists():
        raise FileExistsError(f"{out_dir / 'images.csv'}: already exists; choose a new --out folder")
    if crop < criteria.min_short_side:
        raise ValueError(f"crop {crop} must be at least min_short_side {criteria.min_short_side}")
    download = download or apt_download
    out_dir.mkdir(parents=True, exist_ok=True)
    versions, candidates, dropped, rows = {}, [], [], []
    with tempfile.TemporaryDirectory(prefix="artrestore-debs-") as tmp, \
            (multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else _Serial()) as pool:
        cache = pathlib.Path(deb_cache) if deb_cache else pathlib.Path(tmp) / "debs"
        for spec in packages:               # 1. every package's candidates, measured and hashed
            deb = download(spec.name, cache)
            contents = unpack(deb, pathlib.Path(tmp) / spec.name)
            versions[spec.name] = contents.version
            copyright_file = contents.root / "usr/share/doc" / spec.name / "copyright"
            notice = (Copyright.parse(copyright_file.read_text(errors="replace"))
                      if copyright_file.is_file() else None)
            jobs = []
            for rel in _listed(contents.root, spec, criteria, dropped):
                licence = notice.licence_for(spec.source_path(rel)) if notice else None
                if licence is None or licence.licence == "unknown":
                    dropped.append((spec.name, rel, "no licence in the package's copyright file", ""))
                    continue
                jobs.append((str(contents.root / rel), rel, dataclasses.asdict(licence)))
            examined = pool.imap(image_jobs.examine, [(j[0], criteria, max_short_side) for j in jobs])
            for (path, rel, licence), record in zip(jobs, examined):
                if record.get("reason"):
                    dropped.append((spec.name, rel, record["reason"], record.get("sha256", "")))
                    continue
                record.update(package=spec.name, version=contents.version, path=rel, kind=spec.kind(rel),
                              file=path, licence=licence["licence"], copyright=licence["copyright"],
                              licence_source=licence["source"])
                candidates.append(record)
            log.info("%s %s: %d candidates", spec.name, contents.version,
                     sum(r["package"] == spec.name for r in candidates))
        kept = image_jobs.dedupe(candidates, dropped, hash_distance)          # 2. across all packages
        for spec in packages:
            kept = _limit(kept, spec.name, max_per_package, seed, dropped)
        args = [(r["file"], r["sha256"], out_dir / "crops" / r["package"], crop, crops_per_image,
                 max_short_side, seed, criteria) for r in kept]
        for record, crops in zip(kept, pool.imap(image_jobs.write_crops, args)):    # 3. training crops
            if not crops:
                dropped.append((record["package"], record["path"], "no crop window with enough texture",
                                record["sha256"]))
                continue
            record["crops"] = ";".join(pathlib.Path(c).relative_to(out_dir).as_posix() for c in crops)
            rows.append(record)
    report = _report(rows, dropped, packages, versions, {
        "crop": crop, "crops_per_image": crops_per_image, "max_per_package": max_per_package,
        "max_short_side": max_short_side, "seed": seed, "hash_distance": hash_distance, "criteria": criteria.asdict()})
    write_new(out_dir / "images.csv", csv_bytes(IMAGE_COLUMNS, rows))
    write_new(out_dir / "dropped.csv", csv_bytes(DROPPED_COLUMNS, [dict(zip(DROPPED_COLUMNS, d)) for d in dropped]))
    write_new(out_dir / "report.json", json.dumps(report, indent=1).encode())
    return report


class _Serial:
    """The ``imap`` of a one-process pool, without starting processes."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def imap(func, items):
        return map(func, items)


def _listed(root: pathlib.Path, spec: PackageSpec, criteria, dropped) -> list[str]:
    """Installed raster files the spec includes, large enough; one per directory when grouped."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if (path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file() or path.is_symlink()
                or not any(fnmatch.fnmatchcase(rel, g) for g in spec.include)):
            continue
        if any(fnmatch.fnmatchcase(rel, g) for g in spec.maps):
            dropped.append((spec.name, rel, "not a picture: a map for a renderer (mask, relief, overlay)", ""))
            continue
        if any(fnmatch.fnmatchcase(rel, g) for g in spec.exclude):
            dropped.append((spec.name, rel, "excluded: the same picture as a source of another collection", ""))
            continue
        with open(path, "rb") as fh:
            size = _declared_size(fh.read(1 << 16))
        if size is not None and min(size) < criteria.min_short_side:
            dropped.append((spec.name, rel, f"small: {size[0]}x{size[1]} < {criteria.min_short_side} px", ""))
            continue
        found.append((rel, size[0] * size[1] if size else 0))
    if not spec.group_by_dir:
        return [rel for rel, _ in found]
    groups = collections.defaultdict(list)
    for rel, pixels in found:
        groups[rel.rsplit("/", 1)[0]].append((pixels, rel))
    keep = []
    for members in groups.values():
        members.sort(key=lambda m: (-m[0], m[1]))
        keep.append(members[0][1])
        for _, rel in members[1:]:
            dropped.append((spec.name, rel, f"duplicate: smaller size of {members[0][1]}", ""))
    return sorted(keep)


def _limit(records, package, max_per_package, seed, dropped):
    mine = [r for r in records if r["package"] == package]
    if max_per_package is None or len(mine) <= max_per_package:
        return records
    rng = np.random.default_rng([seed, int(hashlib.sha256(package.encode()).hexdigest()[:8], 16)])
    chosen = {id(mine[i]) for i in rng.choice(len(mine), max_per_package, replace=False)}
    for r in mine:
        if id(r) not in chosen:
            dropped.append((package, r["path"], f"over max_per_package={max_per_package}", r["sha256"]))
    return [r for r in records if r["package"] != package or id(r) in chosen]


def _report(rows, dropped, packages, versions, parameters) -> dict:
    per_package = {}
    for spec in packages:
        mine = [r for r in rows if r["package"] == spec.name]
        reasons = collections.Counter(d[2].split(":")[0] for d in dropped if d[0] == spec.name)
        per_package[spec.name] = {
            "version": versions.get(spec.name), "kept": len(mine),
            "kinds": {k: sum(r["kind"] == k for r in mine) for k in KINDS},
            "crops": sum(len(r["crops"].split(";")) for r in mine), "dropped": dict(sorted(reasons.items())),
            "licences": dict(collections.Counter(r["licence"] for r in mine))}
    return {
        "images": len(rows), "crops": sum(p["crops"] for p in per_package.values()),
        "kinds": {k: sum(r["kind"] == k for r in rows) for k in KINDS},
        "dropped": dict(collections.Counter(d[2].split(":")[0] for d in dropped)),
        "licences": dict(collections.Counter(r["licence"] for r in rows).most_common()),
        "packages": per_package, "parameters": parameters}


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``images`` to the ``artrestore train`` steps (sets ``handler``, as ``artrestore.cli.train`` expects)."""
    p = subparsers.add_parser("images", help="collect training images from Debian packages")
    p.add_argument("--out", required=True, help="new folder for crops/, images.csv, dropped.csv, report.json")
    p.add_argument("--crop", type=int, default=512, help="crop side in pixels (default 512)")
    p.add_argument("--crops-per-image", type=int, default=4)
    p.add_argument("--max-per-package", type=int, default=None)
    p.add_argument("--max-short-side", type=int, default=1024, help="downscale larger sources first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--packages", default=None, help="comma-separated subset of the default packages")
    p.add_argument("--deb-cache", default=None, help="keep downloaded .deb files here")
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    """Handler of `artrestore train images`: collect, then print the counts."""
    packages = DEFAULT_PACKAGES
    if args.packages:
        wanted = args.packages.split(",")
        unknown = set(wanted) - {s.name for s in DEFAULT_PACKAGES}
        if unknown:
            raise SystemExit(f"unknown packages {sorted(unknown)}; known: {[s.name for s in DEFAULT_PACKAGES]}")
        packages = tuple(s for s in DEFAULT_PACKAGES if s.name in wanted)
    report = collect_images(args.out, packages=packages, crop=args.crop, crops_per_image=args.crops_per_image,
                            max_per_package=args.max_per_package, max_short_side=args.max_short_side,
                            seed=args.seed, deb_cache=args.deb_cache, workers=args.workers)
    print(json.dumps({k: report[k] for k in ("images", "crops", "kinds", "dropped")}, indent=1))
    return 0


def main(argv=None) -> int:
    """``python -m artrestore.training.collect_images --out DIR``: the same as ``artrestore train images``."""
    parser = argparse.ArgumentParser(prog="artrestore train")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["images", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
