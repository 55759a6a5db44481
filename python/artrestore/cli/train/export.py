"""``artrestore train export``: the U-Net as a versioned SavedModel (with warm-up records) for TF Serving."""
from __future__ import annotations

from artrestore.dl.contract import MODEL_NAME


def register(steps) -> None:
    p = steps.add_parser("export", help="export the U-Net as a versioned SavedModel for TF Serving")
    p.add_argument("--unet", help="U-Net folder (default: bundled)")
    p.add_argument("--out", required=True, help="model base path")
    p.add_argument("--name", default=MODEL_NAME)
    p.add_argument("--version", type=int, default=1)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.serving.export import export_for_serving

    print(export_for_serving(args.unet, args.out, model_name=args.name, version=args.version,
                             overwrite=args.overwrite))
    return 0
