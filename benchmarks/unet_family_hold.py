"""The U-Net with its shipped hold on the validation split, damaged by one training-side family.

Inputs: the clean dataset folder (its ``val`` sources, longer side <= 512 px), a U-Net folder whose
metadata records its hold (``training.unet_hold --write-metadata``), a damage family: ``broad``
(the training family), ``legacy`` (the project's first synthesizer, ``training.synthesis``) or
``proxy`` (``artrestore.proxy_family``, for choosing only).
Never the check family: this is for choosing between models. Each source is damaged ``draws``
times per severity with the hold's validation seeds (``unet_broad_data.val_damage_seed``) and also
kept clean (``training.unet_hold``'s outcomes). Output (JSON): per level (clean, light, moderate,
severe) mean PSNR / SSIM of the input, of the network's output and of the output with its hold
(``dl.hold.keep_for`` on the learned decision's severity probabilities), and the per-image rows
(``source``: the source's index in the split).

Run: ``python benchmarks/unet_family_hold.py --clean ../shared/data/clean --unet DIR --family legacy
--draws 4 --out FILE.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

PSNR_CAP = 100.0  # dB, as training.unet_hold: an unchanged clean image is infinitely close


def outcome_rows(outcomes, shares: dict, draws: int) -> list[dict]:
    """One row per image of ``training.unet_hold._outcomes``: its source's index, its level and the
    PSNR / SSIM of the input, the network's output and the output with the holds ``shares``
    (``dl.hold.read_shares``) applied."""
    from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY, hold_change, hold_colour, keep_for
    from artrestore.metrics import psnr, ssim

    holds = [(hold_colour, shares.get(COLOUR_KEEP_KEY, {})), (hold_change, shares.get(CHANGE_KEEP_KEY, {}))]
    per_source = 1 + 3 * draws  # _outcomes gives each source clean, then draws x three severities
    rows = []
    for n, (level, clean, image, restored, probability) in enumerate(outcomes):
        held = restored
        for apply, keep_by_class in holds:
            held = apply(image, held, keep_for(probability, keep_by_class))
        rows.append({"source": n // per_source, "level": level, **{
            f"{what}_{metric}": value for what, im in (("input", image), ("output", restored), ("held", held))
            for metric, value in (("psnr", min(psnr(clean, im), PSNR_CAP)), ("ssim", ssim(clean, im)))}})
    return rows


def evaluate(clean_dir, model_dir, family: str, draws: int) -> dict:
    from artrestore.dl.hold import read_shares
    from artrestore.training.unet_hold import _outcomes

    shares = read_shares(model_dir)
    rows = outcome_rows(_outcomes(clean_dir, model_dir, draws, family=family), shares, draws)
    levels = dict.fromkeys(r["level"] for r in rows)
    summary = {level: {key: float(np.mean([r[key] for r in rows if r["level"] == level]))
                       for key in rows[0] if key not in ("source", "level")} for level in levels}
    return {"family": family, "draws": draws, "unet": str(model_dir or "bundled"), "shares": shares,
            "summary": summary, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--unet", default=None, help="U-Net folder (default: the bundled one)")
    from artrestore.training.unet_hold import FAMILIES

    parser.add_argument("--family", choices=FAMILIES, required=True,
                        help="broad, legacy, or proxy (artrestore.proxy_family: for choosing, never trained on)")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    report = evaluate(args.clean, args.unet, args.family, args.draws)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    for level, v in report["summary"].items():
        print(level, {k: round(x, 3) for k, x in v.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
