"""U-Nets on held-out crops only: measure (never choose) each network raw and with its own hold.

In: a folder of clean crops no compared network trained on (``scripts/pack_training_data.py
--holdout-fraction`` writes ``val_extra/``), U-Net folders (``bundled`` = the shipped one).
Each crop (longer side 384 px, as ``training.unet_hold``) is kept clean and damaged once per
severity by the broad damage model, with ``unet_hold``'s seeds. Out: a JSON report with mean PSNR
and SSIM per level (clean / light / moderate / severe) of the input, the raw network and the
network with the hold recorded in its own metadata (``dl.hold.read_shares``; change hold only),
and the per-crop rows (``unet_family_hold.outcome_rows``) for paired comparisons
(``unet_candidate_gains.py --extra-report``).
The model choice rule is on the validation split (docs/unet_training.md); this is a second
measurement of content the split lacks.

    python benchmarks/unet_on_extra_val.py --extra .devdata/pack3/val_extra --unet bundled \\
        --unet .devdata/runs/dt3 --out benchmarks/results/unet_runs/detector_dt3_vs_run10_pack3_val_extra.json
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from artrestore.dl.hold import CHANGE_KEEP_KEY, read_shares  # noqa: E402
from artrestore.training import unet_hold  # noqa: E402
from unet_family_hold import outcome_rows  # noqa: E402  (this script's folder is on sys.path)

ALL_KEPT = {"light": 1.0, "moderate": 1.0, "severe": 1.0}


def measure(extra: str, model: str | None) -> dict:
    """{"input", "raw", "held": {level: {"psnr", "ssim"}}, "shares", "n"} for one U-Net folder."""
    shares = read_shares(model)[CHANGE_KEEP_KEY] or ALL_KEPT
    with tempfile.TemporaryDirectory() as empty:  # no split sources: the held-out crops alone
        outcomes = unet_hold._outcomes(empty, model, 1, 1, extra)
    untouched = [(level, clean, image, image, p) for level, clean, image, _, p in outcomes]
    return {"input": unet_hold._scores(untouched, CHANGE_KEEP_KEY, ALL_KEPT),
            "raw": unet_hold._scores(outcomes, CHANGE_KEEP_KEY, ALL_KEPT),
            "held": unet_hold._scores(outcomes, CHANGE_KEEP_KEY, shares), "shares": shares, "n": len(outcomes),
            "rows": outcome_rows(outcomes, {CHANGE_KEEP_KEY: shares}, draws=1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", required=True, help="folder of held-out clean crops")
    parser.add_argument("--unet", action="append", required=True, help="U-Net folder or 'bundled' (repeatable)")
    parser.add_argument("--out", required=True, help="JSON report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    report = {}
    for name in args.unet:
        report[name] = measure(args.extra, None if name == "bundled" else name)
        logging.warning("%s: %s", name, {k: {lv: round(v[lv]["psnr"], 2) for lv in v}
                                         for k, v in report[name].items() if k in ("input", "raw", "held")})
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
