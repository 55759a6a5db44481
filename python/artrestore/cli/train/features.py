"""``artrestore train features``: fft_features.csv for a paired dataset."""
from __future__ import annotations

from artrestore.cli.train import report


def register(steps) -> None:
    p = steps.add_parser("features", help="write fft_features.csv for a paired dataset")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.router_fit import feature_table

    return report(*feature_table(args.data, args.out))
