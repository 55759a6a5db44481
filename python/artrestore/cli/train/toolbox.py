"""``artrestore train toolbox``: PSNR / SSIM of every classical technique per severity (Markdown table)."""
from __future__ import annotations

import sys


def register(steps) -> None:
    p = steps.add_parser("toolbox", help="PSNR/SSIM of every classical technique per severity")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.synthesis import SEVERITIES as severities
    from artrestore.training.toolbox import evaluate_toolbox

    summary, errors = evaluate_toolbox(args.data, split=args.split)
    print("| technique | " + " | ".join(f"{s} PSNR / SSIM" for s in severities) + " |")
    print("|---|" + "---|" * len(severities))
    for name, by_sev in summary.items():
        cells = [f"{by_sev[s][0]:.2f} / {by_sev[s][1]:.3f}" if s in by_sev else "-" for s in severities]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for s in severities:
        ranked = sorted((v[s][0], k) for k, v in summary.items() if s in v and not k.startswith("input"))
        if ranked:
            print(f"best on {s}: {ranked[-1][1]} ({ranked[-1][0]:.2f} dB)")
    for error in errors:
        print(f"  FAILED {error}", file=sys.stderr)
    return 1 if errors else 0
