"""``artrestore train data``: a paired dataset synthesized from clean images."""
from __future__ import annotations

import sys


def register(steps) -> None:
    p = steps.add_parser("data", help="synthesize a paired dataset from clean images")
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--per-image", type=int, default=4)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.datasets import build_dataset

    report = build_dataset(args.src, args.out, per_image=args.per_image, size=args.size, seed=args.seed)
    print(f"wrote {report.pairs} pairs to {args.out}")
    for name, error in report.failed:
        print(f"  FAILED {name}: {error}", file=sys.stderr)
    return 1 if report.failed else 0
