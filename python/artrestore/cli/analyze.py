"""``artrestore analyze``: the 14 damage features, severity, method and parameters, as JSON."""
from __future__ import annotations

import json
import sys

from artrestore.cli.restore import add_decision_arguments


def register(sub) -> None:
    p = sub.add_parser("analyze", help="print the 14 damage features, severity, method and parameters")
    p.add_argument("images", nargs="+")
    p.add_argument("--router")
    p.add_argument("--no-dl", action="store_true", help="name the path restore --no-dl would take")
    add_decision_arguments(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.restorer import HybridRestorer

    # The method named is the one ``restore`` would take with the same options; analysing loads no
    # network either way (the U-Net is loaded on its first image).
    restorer = HybridRestorer(ml_model_path=args.router, use_dl=not args.no_dl, decision=args.decision,
                              prefer=args.prefer, time_budget_s=args.time_budget)
    status, out = 0, {}
    for path in args.images:
        try:
            out[str(path)] = restorer.analyze(path)
        except (OSError, ValueError) as error:
            print(f"FAILED {path}: {error}", file=sys.stderr)
            status = 1
    print(json.dumps(out, indent=2))
    return status
