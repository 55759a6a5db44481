"""Before/after sheet of real images with no ground truth: every path of ``HybridRestorer`` side by side.

Usage: python benchmarks/real_sheet.py [--deb-cache DIR] [--out docs/real_sheet.jpg] [--views | --scratches S]

Images: the bundled damaged samples (python/artrestore/samples/damaged/) and real scans of old
artefacts that ship in Debian's ``stellarium-data`` (GPL-2+: a page of the Leiden Aratea
manuscript, the Dendera zodiac relief, the Farnese Atlas, a Mul.Apin tablet), extracted from the
package's .deb (``apt-get download stellarium-data`` or the image collection's --deb-cache). The
Aratea page and Farnese Atlas also appear, as crops, among the U-Net's training-only clean images
(their real ageing was taken as content there); the others are not in any training set.
Each row: input | classical | ml_guided | dl | auto (the chosen path named), longer side 384 px.
With ``--views``: input | the U-Net with one view | with eight views (``dl.ensemble``, the
accelerated profile's default) | their difference x4 around grey (docs/real_sheet_views.jpg).
With ``--scratches S``: input | the opt-in scratch stage's mask at sensitivity S (``chain.scratches``) |
the scratches removed | ``auto`` after it (docs/scratches_sheet.jpg).
"""
from __future__ import annotations

import argparse
import glob
import pathlib
import subprocess
import sys
import tempfile

import cv2
import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

from artrestore import HybridRestorer  # noqa: E402
from artrestore._resources import SAMPLES  # noqa: E402
from artrestore.chain.scratches import remove_scratches  # noqa: E402
from artrestore.imageio import read_image  # noqa: E402

STELLARIUM = ("usr/share/stellarium/skycultures/greek_leidenAratea/descr_pics/Aratea fol. 3v und 4r.jpg",
              "usr/share/stellarium/skycultures/egyptian_dendera/Dendera_zodiac_Louvre.jpg",
              "usr/share/stellarium/skycultures/greek_farnese/Atlas_(Farnese_Globe).jpg",
              "usr/share/stellarium/skycultures/babylonian_mulapin/800px-MulApin-BritishMuseum.jpg")
PATHS = ("classical", "ml_guided", "dl", "auto")
SIDE = 384


def _fit(image: np.ndarray) -> np.ndarray:
    scale = SIDE / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    tile = np.full((SIDE + 22, SIDE, 3), 255, np.uint8)
    tile[22:22 + image.shape[0], :image.shape[1]] = image
    cv2.putText(tile, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def real_images(deb_cache: pathlib.Path | None) -> list[tuple[str, np.ndarray]]:
    images = [(p.stem, read_image(p)) for p in sorted((SAMPLES / "damaged").glob("*.jpg"))]
    with tempfile.TemporaryDirectory() as tmp:
        debs = sorted(glob.glob(str((deb_cache or pathlib.Path(tmp)) / "stellarium-data_*.deb")))
        if not debs:
            subprocess.run(["apt-get", "download", "stellarium-data"], cwd=tmp, check=True, capture_output=True)
            debs = sorted(glob.glob(str(pathlib.Path(tmp) / "stellarium-data_*.deb")))
        subprocess.run(["dpkg-deb", "-x", debs[-1], tmp], check=True)
        for path in STELLARIUM:
            images.append((pathlib.Path(path).stem[:28], read_image(pathlib.Path(tmp) / path)))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deb-cache", type=pathlib.Path, help="folder holding stellarium-data_*.deb")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="default docs/real_sheet.jpg (docs/real_sheet_views.jpg with --views)")
    parser.add_argument("--views", action="store_true", help="the U-Net with one view against eight")
    parser.add_argument("--scratches", type=float, default=None, metavar="S",
                        help="the opt-in scratch removal at sensitivity S, and auto after it")
    args = parser.parse_args()
    name = "real_sheet_views.jpg" if args.views else "scratches_sheet.jpg" if args.scratches else "real_sheet.jpg"
    args.out = args.out or REPO / "docs" / name
    restorer = HybridRestorer()
    eight = HybridRestorer(dl_views=8) if args.views else None
    rows = []
    for name, image in real_images(args.deb_cache):
        image = _fit(image)
        tiles = [_label(image, f"{name} (input)")]
        if eight is not None:
            one_view, _ = restorer.restore(image, strategy="dl")
            eight_views, _ = eight.restore(image, strategy="dl")
            difference = np.clip(128 + 4 * (eight_views.astype(int) - one_view), 0, 255).astype(np.uint8)
            tiles += [_label(one_view, "dl, 1 view"), _label(eight_views, "dl, 8 views"),
                      _label(difference, "8 views - 1 view, x4 around grey")]
            rows.append(np.hstack(tiles))
            continue
        if args.scratches is not None:
            # What HybridRestorer(scratches=S) does, in two steps so that each is shown (one detection).
            removed, mask = remove_scratches(image, args.scratches)
            after, info = restorer.restore(removed, strategy="auto")
            tiles += [_label(np.repeat(mask[:, :, None], 3, axis=2), f"scratch mask ({100 * np.mean(mask > 0):.1f} %)"),
                      _label(removed, f"scratches removed (sensitivity {args.scratches:g})"),
                      _label(after, f"then auto -> {info['method']} ({info['severity']})")]
            rows.append(np.hstack(tiles))
            continue
        for path in PATHS:
            restored, info = restorer.restore(image, strategy=path)
            text = path if path != "auto" else f"auto -> {info['method']} ({info['severity']})"
            tiles.append(_label(restored, text))
        rows.append(np.hstack(tiles))
    sheet = np.vstack(rows)
    cv2.imwrite(str(args.out), sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f"wrote {args.out} ({sheet.shape[1]} x {sheet.shape[0]})")


if __name__ == "__main__":
    main()
