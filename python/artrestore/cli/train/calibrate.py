"""``artrestore train calibrate``: decision thresholds chosen on the validation pairs."""
from __future__ import annotations

import json


def register(steps) -> None:
    p = steps.add_parser("calibrate", help="choose decision thresholds on the validation pairs")
    p.add_argument("--data", required=True)
    p.add_argument("--router", required=True)
    p.add_argument("--with-unet", action="store_true", help="count the U-Net (runs it on every val pair)")
    p.add_argument("--unet", help="U-Net folder (default: bundled)")
    p.add_argument("--seconds-cost-db", type=float, default=1.0, help="dB of PSNR one second of time is worth")
    p.add_argument("--gpu-speedup", type=float, default=60.0,
                   help="how much faster the U-Net runs when served from a GPU (for the accelerated thresholds)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.router_fit import calibrate

    dl_restore = None
    if args.with_unet:
        from artrestore.dl.inference import UNetRestorer

        dl_restore = UNetRestorer(args.unet).restore
    result = calibrate(args.data, args.router, dl_restore=dl_restore, seconds_cost_db=args.seconds_cost_db,
                       gpu_speedup=args.gpu_speedup)
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0
