"""``artrestore train <step>``: building data, searching parameters, fitting the router, training,
testing and exporting the U-Net. One module per step in ``artrestore.cli.train``, each with
``register(steps)``; ``STEPS`` lists them in the order ``--help`` shows."""
from __future__ import annotations

import importlib
import sys

__all__ = ["STEPS", "register", "report"]

STEPS = ("data", "features", "search", "router", "calibrate", "toolbox", "unet", "unet_broad", "images", "packaged_images",
         "unet_test", "export")


def register(sub) -> None:
    p = sub.add_parser("train", help="build data, search parameters, fit the router, train/export the U-Net")
    steps = p.add_subparsers(dest="step", required=True)
    for name in STEPS:
        importlib.import_module(f"{__name__}.{name}").register(steps)


def report(path, errors) -> int:
    """Print what a step wrote and each input that failed; 1 when any did."""
    if path:
        print(f"wrote {path}")
    for error in errors:
        print(f"  FAILED {error}", file=sys.stderr)
    return 1 if errors else 0
