"""``artrestore train unet-test``: per-pair input/output PSNR and SSIM of the U-Net -> CSV, with a summary."""
from __future__ import annotations


def register(steps) -> None:
    p = steps.add_parser("unet-test", help="per-pair input/output PSNR and SSIM of the U-Net -> test_results.csv")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--unet", help="U-Net folder (default: bundled)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.synthesis import SEVERITIES
    from artrestore.training.unet_eval import evaluate_on_pairs

    rows = evaluate_on_pairs(args.data, args.out, split=args.split, model_dir=args.unet)
    for severity in SEVERITIES:
        chosen = [r for r in rows if r["severity"] == severity]
        if chosen:
            mean = {key: sum(r[key] for r in chosen) / len(chosen)
                    for key in ("input_psnr", "output_psnr", "input_ssim", "output_ssim")}
            print(f"{severity}: {len(chosen)} pairs, PSNR {mean['input_psnr']:.2f} -> {mean['output_psnr']:.2f} dB, "
                  f"SSIM {mean['input_ssim']:.3f} -> {mean['output_ssim']:.3f}")
    return 0
