"""How much of the U-Net's remaining error on a damage family is global colour: an oracle probe.

In: the clean dataset folder (its ``val`` sources, as ``training.unet_hold``), a U-Net folder
(default: the bundled one), a training-side or choosing family (``broad``, ``legacy``, ``jitter``,
``proxy``; never the check family: this steers what to build next). Each source is damaged
``draws`` times per severity with the hold's validation seeds. Out (JSON): per level, mean PSNR
(dB) of the input, of the raw network output, and of each after the *oracle* global colour map:
the per-image least-squares affine map of RGB (3 x 3 matrix plus offset) onto the clean image. The
oracle knows the clean image, so it is an upper bound on what any global colour correction could
add; the gap between ``output`` and ``output_oracle_colour`` is the share of the remaining error
that is one global colour transform, the rest is local (lines, spots, stains, noise, blur).

Run: ``python benchmarks/colour_share_probe.py --clean ../shared/data/clean --family proxy --draws 2
--out FILE.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

PSNR_CAP = 100.0


def oracle_colour(image: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """``image`` (uint8 H x W x 3) mapped by the least-squares affine RGB map onto ``clean``; uint8."""
    x = image.reshape(-1, 3).astype(np.float64)
    design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, clean.reshape(-1, 3).astype(np.float64), rcond=None)
    return np.clip(np.rint(design @ coefficients), 0, 255).astype(np.uint8).reshape(image.shape)


def probe(clean_dir, model_dir, family: str, draws: int) -> dict:
    from artrestore.metrics import psnr
    from artrestore.training.unet_hold import _outcomes

    rows = []
    for level, clean, image, restored, _ in _outcomes(clean_dir, model_dir, draws, family=family):
        if level == "clean":
            continue
        rows.append({"level": level, **{name: min(psnr(clean, im), PSNR_CAP) for name, im in (
            ("input", image), ("input_oracle_colour", oracle_colour(image, clean)),
            ("output", restored), ("output_oracle_colour", oracle_colour(restored, clean)))}})
    levels = dict.fromkeys(r["level"] for r in rows)
    summary = {lv: {k: round(float(np.mean([r[k] for r in rows if r["level"] == lv])), 3)
                    for k in rows[0] if k != "level"} for lv in levels}
    return {"family": family, "draws": draws, "unet": str(model_dir or "bundled"), "summary": summary, "rows": rows}


def main(argv=None) -> int:
    from artrestore.training.unet_hold import FAMILIES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--unet", default=None, help="U-Net folder (default: the bundled one)")
    parser.add_argument("--family", choices=FAMILIES, required=True)
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = probe(args.clean, args.unet, args.family, args.draws)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for level, values in result["summary"].items():
        print(level, " | ".join(f"{k} {v:.2f}" for k, v in values.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
