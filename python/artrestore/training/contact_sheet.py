"""Contact sheet of the broad damage model and the ranges table of ``docs/damage.md``.

``contact_sheet(image, out)``: every kind of ``damage_ranges.KINDS`` applied alone on one real image
(a centre crop): its first family at the three severities, every other family at severe, and the
line/spot mask; plus a last row of full random draws; written as JPEG. ``write_ranges_table(doc)`` replaces
the table in ``docs/damage.md`` with the one generated from the code.

Command: ``python -m artrestore.training.contact_sheet [IMAGE] [--out docs/damage_contact_sheet.jpg]``
(IMAGE defaults to a CBSD68 portrait under ``$ARTRESTORE_DATA/clean``, by default ``../shared/data``).
"""
from __future__ import annotations

import argparse
import os
import pathlib

import cv2
import numpy as np

from artrestore.training.broad_damage import broad_damage
from artrestore.training.damage_ranges import FAMILIES, KINDS, SEVERITIES, ranges_markdown

__all__ = ["contact_sheet", "write_ranges_table"]

REPO = pathlib.Path(__file__).resolve().parents[3]
SHARED_DATA = pathlib.Path(os.environ.get("ARTRESTORE_DATA", REPO.parent / "shared" / "data"))
DEFAULT_IMAGE = SHARED_DATA / "clean" / "cbsd68" / "189080.png"  # a portrait: skin, fabric, a plain wall
TILE = 144
_LABEL_H = 16


def _tile(image: np.ndarray, text: str) -> np.ndarray:
    tile = cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA)
    band = np.zeros((_LABEL_H, TILE, 3), np.uint8)
    cv2.putText(band, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.34, (255, 255, 255), 1, cv2.LINE_AA)
    return np.vstack([band, tile])


def _mask_view(clean: np.ndarray, mask: np.ndarray) -> np.ndarray:
    view = (clean * 0.35).astype(np.uint8)
    view[mask] = (255, 40, 40)
    return view


def contact_sheet(image: np.ndarray, out, *, seed: int = 3, crop: int = 384):
    """Write the sheet for RGB uint8 ``image`` to ``out`` (JPEG); returns the path.

    One row per kind: the clean crop; its first family at light, moderate and severe; each other
    family at severe; the line/spot mask of the severe first-family draw. Last row: full random draws."""
    h, w = image.shape[:2]
    side = min(h, w, crop)
    top, left = (h - side) // 2, (w - side) // 2
    clean = np.ascontiguousarray(image[top:top + side, left:left + side])
    width = 1 + len(SEVERITIES) + max(len(f) for f in FAMILIES.values()) - 1 + 1
    blank = np.full((TILE + _LABEL_H, TILE, 3), 255, np.uint8)
    rows = []
    for kind in KINDS:
        first, *others = FAMILIES[kind]
        tiles = [_tile(clean, f"{kind}: clean")]
        for severity in SEVERITIES:
            damaged, mask, _ = broad_damage(clean, severity, seed, kinds=[kind], families={kind: first})
            tiles.append(_tile(damaged, f"{first} {severity}"))
        for family in others:
            tiles.append(_tile(broad_damage(clean, "severe", seed, kinds=[kind], families={kind: family})[0],
                               f"{family} severe"))
        tiles += [blank] * (width - 1 - len(tiles))
        tiles.append(_tile(_mask_view(clean, mask), f"mask ({first} severe)" if mask.any() else "no mask"))
        rows.append(np.hstack(tiles))
    full = [_tile(clean, "all kinds: clean")]
    for severity in SEVERITIES:
        for k in range(2):
            full.append(_tile(broad_damage(clean, severity, seed + k)[0], f"random draw {severity}"))
    full += [blank] * (width - len(full))
    sheet = np.vstack(rows + [np.full((10, width * TILE, 3), 255, np.uint8), np.hstack(full)])
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88]):
        raise OSError(f"could not write {out}")
    return out


def write_ranges_table(doc=REPO / "docs" / "damage.md") -> pathlib.Path:
    """Replace the ranges table in ``doc`` (from its ``| kind | families |`` header to the next blank line)."""
    doc = pathlib.Path(doc)
    text = doc.read_text()
    start = text.index("| kind | families |")
    end = text.index("\n\n", start)
    doc.write_text(text[:start] + ranges_markdown() + text[end:])
    return doc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE))
    parser.add_argument("--out", default=str(REPO / "docs" / "damage_contact_sheet.jpg"))
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    bgr = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if bgr is None:
        parser.error(f"cannot read an image from {args.image}")
    path = contact_sheet(np.ascontiguousarray(bgr[:, :, ::-1]), args.out, seed=args.seed)
    write_ranges_table()
    print(f"wrote {path} and the ranges table of docs/damage.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
