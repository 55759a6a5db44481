"""``artrestore train router``: the random-forest router fitted on a search table."""
from __future__ import annotations

from artrestore.cli.train import report


def register(steps) -> None:
    p = steps.add_parser("router", help="fit the random-forest router from a search table")
    p.add_argument("--table", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.router_fit import fit_router

    return report(fit_router(args.table, args.out, seed=args.seed), [])
