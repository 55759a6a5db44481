"""``artrestore train export-onnx``: the U-Net's ONNX graphs (fp32 and calibrated int8) for the
in-process runtime, validated against Keras (``training.export_onnx``)."""
from __future__ import annotations

import json


def register(steps) -> None:
    p = steps.add_parser("export-onnx", help="export the U-Net to ONNX (fp32 + int8) for the in-process runtime")
    p.add_argument("--model-dir", help="U-Net folder (default: the bundled model)")
    p.add_argument("--out", help="where the graphs go (default: beside the weights)")
    p.add_argument("--clean", required=True, help="the clean images the model was trained on")
    p.add_argument("--no-int8", action="store_true", help="export the fp32 graph only")
    p.add_argument("--calibration-crops", type=int, default=None)
    p.add_argument("--calibrate-on", choices=("every", "training"), default="every",
                   help="int8 calibration crops damaged by every training family in turn (default) or by the "
                        "training damage model only")
    p.add_argument("--val-limit", type=int, help="validate on at most this many pairs")
    p.add_argument("--split-seed", type=int, help="the training's split seed, if its metadata lacks it")
    p.add_argument("--image-size", type=int, help="the training's image short side, if its metadata lacks it")
    p.set_defaults(handler=run)


def run(args) -> int:
    import logging

    from artrestore.training.export_onnx import CALIBRATION_CROPS, export_onnx

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    meta = export_onnx(args.model_dir, args.out, clean_dir=args.clean, int8=not args.no_int8,
                       calibration_crops=args.calibration_crops or CALIBRATION_CROPS, val_limit=args.val_limit,
                       split_seed=args.split_seed, image_size=args.image_size, calibrate_on=args.calibrate_on)
    summary = {k: meta[k] for k in ("default_precision", "chosen_by", "fp32_max_abs_diff_vs_keras",
                                    "gflop_per_256_tile")}
    summary["psnr"] = {name: v["all"]["psnr"] for name, v in meta["validation"].items()}
    summary["bytes"] = {p: g["bytes"] for p, g in meta["graphs"].items()}
    print(json.dumps(summary, indent=2))
    return 0
