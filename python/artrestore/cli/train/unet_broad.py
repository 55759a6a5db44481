"""``artrestore train unet-broad``: the U-Net trained on the broad damage model with the damage
mask in the loss (``training.unet_broad``). Options and defaults come from ``BroadTrainConfig``;
imports no compiled code, so it runs on GPU machines without the core."""
from __future__ import annotations

import argparse
import dataclasses
import json

from artrestore.training.unet_broad import LR_SCHEDULES, TRAIN_PRECISIONS, BroadTrainConfig

_TUNABLE = ("architecture", "minutes", "epochs", "steps_per_epoch", "batch_size", "learning_rate", "lr_schedule",
            "loss", "mask_weight", "variants", "val_variants", "seed", "workers", "clean_fraction", "legacy_fraction",
            "jitter_fraction", "ageing_fraction", "severity_weights",
            "detector_weight", "train_only", "notes", "precision")
_CHOICES = {"lr_schedule": LR_SCHEDULES, "precision": TRAIN_PRECISIONS}


def _floats(text: str) -> tuple:
    """``"0.5,0.3,0.2"`` -> (0.5, 0.3, 0.2): the light / moderate / severe shares of damaged pairs."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if len(values) != 3 or min(values) < 0 or sum(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected three non-negative weights (light,moderate,severe), got {text!r}")
    return values


def _channels(text: str) -> tuple:
    """``"16,24,32,48"`` -> (16, 24, 32, 48): the damage detector's channels per level."""
    try:
        values = tuple(int(v) for v in text.split(",")) if text else ()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated channel counts, got {text!r}") from None
    if any(v < 1 for v in values) or len(values) == 1:
        raise argparse.ArgumentTypeError(f"expected two or more positive channel counts, got {text!r}")
    return values


def register(steps) -> None:
    p = steps.add_parser("unet-broad", help="train the U-Net on the broad damage model (mask-weighted loss)")
    p.add_argument("--train", action="append", required=True, help="folder of clean training images (repeatable)")
    p.add_argument("--val", required=True, help="folder of clean validation images (never trained on)")
    p.add_argument("--out", required=True, help="output U-Net folder")
    p.add_argument("--init", help="continue from this U-Net folder")
    defaults = {f.name: f.default for f in dataclasses.fields(BroadTrainConfig)}
    for name in _TUNABLE:
        kind = _floats if isinstance(defaults[name], tuple) else type(defaults[name])
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=defaults[name], choices=_CHOICES.get(name))
    p.add_argument("--detector-filters", type=_channels, default=(),
                   help="add (or keep) a line/spot damage detector with these channels per level, e.g. 16,24,32,48")
    p.set_defaults(handler=run)


def run(args) -> int:
    import logging

    from artrestore.training.unet_broad import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = BroadTrainConfig(train_dirs=tuple(args.train), val_dir=args.val, out_dir=args.out, init_from=args.init,
                           detector_filters=args.detector_filters,
                           **{name: getattr(args, name) for name in _TUNABLE})
    print(json.dumps(train(cfg)["validation"], indent=1))
    return 0
