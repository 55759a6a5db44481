"""The U-Net with its shipped hold on the validation split, damaged by one training-side family.

Inputs: the clean dataset folder (its ``val`` sources, longer side <= 512 px), a U-Net folder whose
metadata records its hold (``training.unet_hold --write-metadata``), a damage family: ``broad``
(the training family) or ``legacy`` (the project's first synthesizer, ``training.synthesis``).
Never the check family: this is for choosing between models. Each source is damaged ``draws``
times per severity with the hold's validation seeds (``unet_broad_data.val_damage_seed``) and also
kept clean. Output (JSON): per level (clean, light, moderate, severe) mean PSNR / SSIM of the input,
of the network's output and of the output with its hold (``dl.hold.keep_for`` on the learned
decision's severity probabilities), and the per-image rows.

Run: ``python benchmarks/unet_family_hold.py --clean ../shared/data/clean --unet DIR --family legacy
--draws 4 --out FILE.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

PSNR_CAP = 100.0  # dB, as training.unet_hold: an unchanged clean image is infinitely close


def evaluate(clean_dir, model_dir, family: str, draws: int) -> dict:
    from artrestore.analysis import routing_vector
    from artrestore.decision import load_decision
    from artrestore.dl.backends import make_backend
    from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY, hold_change, hold_colour, keep_for, read_shares
    from artrestore.metrics import psnr, ssim
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.routing_outcomes import source_images
    from artrestore.training.synthesis import synthesize_damage
    from artrestore.training.unet_broad_data import val_damage_seed

    damage = {"broad": lambda c, s, seed: broad_damage(c, s, seed)[0],
              "legacy": lambda c, s, seed: synthesize_damage(c, s, seed)[0]}[family]
    backend = make_backend("local", model_dir=model_dir)
    decision = load_decision("learned")
    shares = read_shares(model_dir)
    holds = [(hold_colour, shares[COLOUR_KEEP_KEY]), (hold_change, shares[CHANGE_KEEP_KEY])]
    rows = []
    sources, _ = source_images(clean_dir, "val", max_side=512)
    for i, (name, clean) in enumerate(sources):
        inputs = [("clean", clean)] + [(s, damage(clean, s, val_damage_seed(i, k, d, draws)))
                                       for d in range(draws) for k, s in enumerate(SEVERITIES)]
        for level, image in inputs:
            restored = backend.restore(image)
            probability = dict(zip(decision.classes, map(float, decision.predict_severity_proba(routing_vector(image))[0])))
            held = restored
            for apply, keep_by_class in holds:
                held = apply(image, held, keep_for(probability, keep_by_class))
            rows.append({"source": name, "level": level, **{
                f"{what}_{metric}": value for what, im in (("input", image), ("output", restored), ("held", held))
                for metric, value in (("psnr", min(psnr(clean, im), PSNR_CAP)), ("ssim", ssim(clean, im)))}})
    levels = dict.fromkeys(r["level"] for r in rows)
    summary = {level: {key: float(np.mean([r[key] for r in rows if r["level"] == level]))
                       for key in rows[0] if key not in ("source", "level")} for level in levels}
    return {"family": family, "draws": draws, "unet": str(model_dir or "bundled"), "shares": shares,
            "summary": summary, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--unet", default=None, help="U-Net folder (default: the bundled one)")
    parser.add_argument("--family", choices=("broad", "legacy"), required=True)
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
