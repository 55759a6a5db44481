"""``artrestore evaluate``: every strategy on a paired test set (Markdown + PNG report)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="compare every strategy on a paired test set (Markdown + PNG report)")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int)
    p.add_argument("--no-dl", action="store_true")
    p.add_argument("--router")
    p.add_argument("--unet")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.evaluation import evaluate

    report = evaluate(args.data, args.out, split=args.split, limit=args.limit, use_dl=not args.no_dl,
                      router_path=args.router, unet_path=args.unet)
    print(report.read_text())
    return 0
