"""``artrestore train search``: the parameter grid on every training pair -> regression_training_data.csv."""
from __future__ import annotations

from artrestore.cli.train import report


def register(steps) -> None:
    p = steps.add_parser("search", help="40-combination parameter search -> regression_training_data.csv")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split", default="train")
    p.add_argument("--workers", type=int, default=0)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.router_fit import parameter_search

    return report(*parameter_search(args.data, args.out, split=args.split, workers=args.workers))
