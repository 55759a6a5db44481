"""Check a collection's kept sources against the validation/test sources and an earlier collection.

The measures of ``training.image_jobs`` (working copy <= 1024 px, composite, 64-bit pHash, 32 x 32
grey thumbnail); "duplicate" is its dedupe rule (the same file, or aspect ratios within 0.02, pHash
within 8 bits and thumbnails within 6 grey levels); pairs within 12 bits or 8 grey levels are
listed too, to be looked at. Sources are read back from the .debs named by each images.csv.

Usage: python scripts/collection_leak_check.py --new NEW/images.csv --new-debs DIR
           --earlier OLD/images.csv --earlier-debs DIR --clean ../shared/data/clean --out pairs.csv
Prints the nearest distances and the duplicate counts (JSON); exits 1 when there is a duplicate.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile

import cv2
import numpy as np

from artrestore.training import image_select as sel

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
COLUMNS = ["reference", "new", "match", "phash_bits", "thumb_mad", "aspect_diff", "same_file", "duplicate"]


def features(path) -> dict:
    data = pathlib.Path(path).read_bytes()
    rgba = sel.decode_rgba(data, str(path))
    h, w = rgba.shape[:2]
    rgb = sel.composite(sel.working_copy(rgba, 1024))
    thumb = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
    return {"sha256": hashlib.sha256(data).hexdigest(), "aspect": w / h, "phash": sel.perceptual_hash(rgb),
            "thumb": thumb.astype(np.int16)}


def from_debs(images_csv, deb_dir, tmp) -> list[tuple[str, dict]]:
    """(package/path, features) of every source in images_csv, extracted from its .deb."""
    with open(images_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_package: dict[str, list[dict]] = {}
    for row in rows:
        by_package.setdefault(row["package"], []).append(row)
    out = []
    for package, mine in by_package.items():
        deb = sorted(pathlib.Path(deb_dir).glob(f"{package}_*.deb"))[0]
        dest = pathlib.Path(tmp) / package
        dest.mkdir(parents=True)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(dest), *[f"./{r['path']}" for r in mine]], stdin=tar.stdout, check=True)
        tar.wait()
        for row in mine:
            f = features(dest / row["path"])
            if f["sha256"] != row["sha256"]:
                raise ValueError(f"{package}/{row['path']}: not the file images.csv names")
            out.append((f"{package}/{row['path']}", f))
    return out


def compare(new, reference, name) -> tuple[list[dict], dict]:
    rows, best_bits, best_mad = [], 64, 255.0
    for new_name, f in new:
        dists = [(sel.hamming(f["phash"], g["phash"]), float(np.abs(f["thumb"] - g["thumb"]).mean()),
                  abs(f["aspect"] - g["aspect"]), ref_name, f["sha256"] == g["sha256"]) for ref_name, g in reference]
        best_bits = min(best_bits, min(d[0] for d in dists))
        best_mad = min(best_mad, min(d[1] for d in dists))
        for d in dists:
            duplicate = d[4] or (d[0] <= 8 and d[1] <= 6 and d[2] <= 0.02)
            if duplicate or d[0] <= 12 or d[1] <= 8:
                rows.append(dict(zip(COLUMNS, (name, new_name, d[3], d[0], round(d[1], 2), round(d[2], 3), d[4],
                                               duplicate))))
    return rows, {"sources": len(reference), "min_phash_bits": best_bits, "min_thumb_mad": round(best_mad, 2),
                  "duplicates": sum(r["duplicate"] for r in rows), "near_pairs_listed": len(rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", required=True)
    parser.add_argument("--new-debs", required=True)
    parser.add_argument("--earlier", required=True)
    parser.add_argument("--earlier-debs", required=True)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        new = from_debs(args.new, args.new_debs, tmp + "/new")
        earlier = from_debs(args.earlier, args.earlier_debs, tmp + "/earlier")
    clean_dir = pathlib.Path(args.clean)
    clean = [(str(p.relative_to(clean_dir)), features(p)) for p in sorted(clean_dir.rglob("*"))
             if p.suffix.lower() in SUFFIXES]
    rows, summary = [], {"new_sources": len(new)}
    for name, reference in (("clean", clean), ("earlier", earlier)):
        mine, summary[name] = compare(new, reference, name)
        rows += mine
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(json.dumps(summary, indent=1))
    return 1 if any(r["duplicate"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
