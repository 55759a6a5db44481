"""``artrestore demo``: restore the bundled sample images and write a report."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("demo", help="restore the bundled sample images and write a report")
    p.add_argument("--out", default="artrestore-demo")
    p.add_argument("--no-dl", action="store_true")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.evaluation import demo

    return demo(args.out, use_dl=not args.no_dl)
