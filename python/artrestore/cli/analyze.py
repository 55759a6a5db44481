"""``artrestore analyze``: the 14 damage features, severity, method and parameters, as JSON."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("analyze", help="print the 14 damage features, severity, method and parameters")
    p.add_argument("images", nargs="+")
    p.add_argument("--router")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.restorer import HybridRestorer

    restorer = HybridRestorer(ml_model_path=args.router, use_dl=False)
    status, out = 0, {}
    for path in args.images:
        try:
            out[str(path)] = restorer.analyze(path)
        except (OSError, ValueError) as error:
            print(f"FAILED {path}: {error}", file=sys.stderr)
            status = 1
    print(json.dumps(out, indent=2))
    return status
