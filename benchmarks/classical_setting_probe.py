"""``classical`` with candidate chain settings on many validation images (docs/chain.md, "The two
candidates on ten times the validation images").

Inputs: folders of clean validation images (each image shrunk so its longer side is at most
``--max-side`` px), damage families (``broad``, ``proxy``; never the check family), settings as JSON
objects of ``ChainParams`` fields (``NAME=JSON``), draws per severity. Output (JSON, and a table on
stdout): per setting, family and severity the mean PSNR gain of ``classical`` over the damaged input
(dB), its standard error and the share of images made worse; per setting the share of the clean
images left at >= 38 dB to themselves. Seeds: ``SEED0 + 1000 x image + 10 x level + draw``.

    python benchmarks/classical_setting_probe.py --clean .devdata/clean_val .devdata/pack3/val_extra \\
        .devdata/pack4/val_extra --setting 'S={}' --out work/classical_probe.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import cv2
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from chain_eval import damage_function  # noqa: E402

LEVELS = ("light", "moderate", "severe")
SEED0 = 9_600_000
FAMILIES = ("broad", "proxy")


def load(folders, max_side: int) -> list[np.ndarray]:
    from artrestore.imageio import read_image
    from artrestore.training.datasets import list_images

    images = []
    for folder in folders:
        for path in list_images(folder):
            image = read_image(path)
            scale = max_side / max(image.shape[:2])
            if scale < 1:
                image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                                   interpolation=cv2.INTER_AREA)
            images.append(np.ascontiguousarray(image))
    return images


def probe(cleans, settings: dict, families=FAMILIES, draws: int = 4) -> dict:
    from artrestore.chain import DEFAULT_CHAIN, ChainParams, run_chain
    from artrestore.metrics import psnr

    params = {name: ChainParams.from_dict({**DEFAULT_CHAIN.as_dict(), **values}) for name, values in settings.items()}
    gains = {name: {f: {lv: [] for lv in LEVELS} for f in families} for name in params}
    for family in families:
        damage = damage_function(family)
        for i, clean in enumerate(cleans):
            for k, level in enumerate(LEVELS):
                for d in range(draws):
                    damaged = damage(clean, level, SEED0 + 1000 * i + 10 * k + d)
                    before = min(psnr(clean, damaged), 100.0)
                    for name, p in params.items():
                        gains[name][family][level].append(min(psnr(clean, run_chain(damaged, p).image), 100.0) - before)
    report = {"images": len(cleans), "draws": draws, "seed0": SEED0, "settings": {}}
    for name, p in params.items():
        clean_share = float(np.mean([psnr(c, run_chain(c, p).image) >= 38 for c in cleans]))
        entry = {"params": p.as_dict(), "clean_share_38db": clean_share}
        for family in families:
            entry[family] = {}
            for level in LEVELS:
                g = np.asarray(gains[name][family][level])
                entry[family][level] = {"gain_db": float(g.mean()), "se_db": float(g.std(ddof=1) / np.sqrt(len(g))),
                                        "share_worse": float(np.mean(g < 0)), "n": int(len(g))}
        report["settings"][name] = entry
    return report


def table(report: dict) -> str:
    rows = [f"{report['images']} images x {report['draws']} draws per level",
            "| setting | family | light | moderate | severe | clean >= 38 dB |", "|---|---|---|---|---|---|"]
    for name, entry in report["settings"].items():
        for family in FAMILIES:
            if family not in entry:
                continue
            cells = [f"{entry[family][lv]['gain_db']:+.2f} ± {entry[family][lv]['se_db']:.2f} "
                     f"({100 * entry[family][lv]['share_worse']:.0f} %)" for lv in LEVELS]
            rows.append(f"| {name} | {family} | {' | '.join(cells)} | {100 * entry['clean_share_38db']:.0f} % |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", nargs="+", required=True, help="folders of clean validation images")
    parser.add_argument("--setting", nargs="+", required=True, help="NAME=JSON of ChainParams fields ({} = shipped)")
    parser.add_argument("--family", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    settings = dict((text.split("=", 1)[0], json.loads(text.split("=", 1)[1])) for text in args.setting)
    report = probe(load(args.clean, args.max_side), settings, args.family, args.draws)
    print(table(report))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
