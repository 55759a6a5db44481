"""``artrestore train packaged-images``: the photographs bundled with scikit-image / scikit-learn as PNG."""
from __future__ import annotations


def register(steps) -> None:
    p = steps.add_parser("packaged-images", help="write the photographs bundled with scikit-image/scikit-learn as PNG")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=run)


def run(args) -> int:
    from artrestore.training.datasets import export_packaged_images

    written, kept = export_packaged_images(args.out)
    print(f"wrote {len(written)} images to {args.out}" + (f" ({len(kept)} already there, kept)" if kept else ""))
    return 0
