"""``artrestore restore``: an image or a folder of images."""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from artrestore.dl.backends import LOCAL
from artrestore.dl.contract import UNET_PRECISIONS
from artrestore.dl.ensemble import VIEWS
from artrestore.imageio import IMAGE_SUFFIXES
from artrestore.strategies import DECISIONS, DEFAULT_PREFERENCE, DEFAULT_STRATEGY, PREFERENCES, STRATEGIES

EXTENSIONS = (*dict.fromkeys(s.lstrip(".") for s in IMAGE_SUFFIXES), "auto")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of seconds, got {text!r}")
    return value


def add_decision_arguments(parser) -> None:
    """``--decision``, ``--prefer`` and ``--time-budget``: how ``auto`` chooses a path."""
    parser.add_argument("--decision", choices=DECISIONS, default=DECISIONS[0],
                        help="auto's decision: learned (gains predicted from outcomes) or the guide's threshold "
                             f"rule (default: {DECISIONS[0]})")
    parser.add_argument("--prefer", choices=PREFERENCES, default=DEFAULT_PREFERENCE,
                        help="auto's trade of quality against time: quality ignores time, speed weighs it most "
                             f"(default: {DEFAULT_PREFERENCE})")
    parser.add_argument("--time-budget", type=_seconds, default=None, metavar="SECONDS",
                        help="auto takes no path expected to take longer than this on the image (at its own size)")


def register(sub) -> None:
    p = sub.add_parser("restore", help="restore an image or a folder of images",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Outputs are written atomically; inputs are never overwritten.")
    p.add_argument("-i", "--input", required=True, help="image file or folder")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("-s", "--strategy", default=DEFAULT_STRATEGY, choices=list(STRATEGIES))
    p.add_argument("--suffix", default="restored", help="appended to output names (default: restored)")
    p.add_argument("--ext", default="png", choices=EXTENSIONS, help="output format; auto keeps the input's")
    p.add_argument("--recursive", action="store_true", help="also restore images in subfolders")
    p.add_argument("--workers", type=int, default=1, help="parallel workers for folders")
    p.add_argument("--overwrite", action="store_true", help="redo files whose output already exists")
    p.add_argument("--no-dl", action="store_true", help="never load TensorFlow; severe images use ML-guided classical")
    p.add_argument("--dl-backend", default=LOCAL, help="local (in-process) or grpc://host:port")
    p.add_argument("--dl-precision", choices=UNET_PRECISIONS, default=None,
                   help="U-Net precision: in process fp32/int8 (ONNX Runtime, CPU) or fp32/bf16/fp16 (Keras on a "
                        "GPU); with --dl-backend grpc://, fp16 calls the SavedModel's serving_fp16 (default: auto)")
    p.add_argument("--dl-views", type=int, choices=VIEWS, default=None,
                   help="average the U-Net over this many mirrored/rotated views (default: 8 with --dl-backend "
                        "grpc://, 1 in process)")
    p.add_argument("--router", help="router folder (default: the bundled one)")
    p.add_argument("--unet", help="U-Net folder (default: the bundled one)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--save-mask", action="store_true",
                   help="also write the line/spot mask the fast paths inpainted as <output>_mask.png")
    add_decision_arguments(p)
    p.add_argument("--remove-scratches", type=float, nargs="?", const=1.0, default=0.0, metavar="SENSITIVITY",
                   help="remove long straight scratches before restoring (default sensitivity 1; higher finds "
                        "fainter ones); their mask joins --save-mask's")
    from artrestore.cluster import add_cluster_arguments  # standard library only until a run starts

    add_cluster_arguments(p)
    p.set_defaults(handler=run)


def _report_folder(results: list[dict], args) -> int:
    """Print a folder run's outcome (JSON or one line plus each failure); 1 when any input failed."""
    from artrestore.decision import LEFT_UNDAMAGED

    failed = [r for r in results if r.get("error")]
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        done = sum(1 for r in results if r.get("status") == "restored")
        skipped = sum(1 for r in results if r.get("status") == "skipped")
        untouched = sum(1 for r in results if r.get("reason") == LEFT_UNDAMAGED)
        left = f" ({untouched} of them left as they were: they look undamaged)" if untouched else ""
        print(f"restored {done}{left}, skipped {skipped} (already done), failed {len(failed)}; "
              f"summary in {pathlib.Path(args.output) / 'summary.csv'}")
        for r in failed:
            print(f"  FAILED {r['file']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def run_ray(args) -> int:
    """``--engine ray``: the folder restored on a Ray cluster (``artrestore.cluster``)."""
    from artrestore.cluster import restore_dataset

    rows = restore_dataset(args.input, args.output, address=args.address, workers=args.workers,
                           dl_backend=args.dl_backend, dl_gpus=args.dl_gpus, strategy=args.strategy,
                           recursive=args.recursive, overwrite=args.overwrite, suffix=args.suffix, ext=args.ext,
                           batch_size=args.batch_size, progress=not args.json, ml_model_path=args.router,
                           dl_model_path=args.unet, use_dl=not args.no_dl, scratches=args.remove_scratches,
                           decision=args.decision, prefer=args.prefer, time_budget_s=args.time_budget)
    return _report_folder(rows, args)


def run(args) -> int:
    from artrestore.restorer import HybridRestorer

    if args.engine == "ray":
        if args.save_mask:  # the Ray stages write the restored image only
            raise SystemExit("--save-mask is not available with --engine ray; run without --engine ray to save masks")
        return run_ray(args)
    src = pathlib.Path(args.input)
    restorer = HybridRestorer(ml_model_path=args.router, dl_model_path=args.unet, dl_backend=args.dl_backend,
                              use_dl=not args.no_dl, dl_precision=args.dl_precision, dl_views=args.dl_views,
                              scratches=args.remove_scratches, decision=args.decision, prefer=args.prefer,
                              time_budget_s=args.time_budget)
    if src.is_dir():
        results = restorer.batch_restore(src, args.output, strategy=args.strategy, recursive=args.recursive,
                                         workers=args.workers, overwrite=args.overwrite, suffix=args.suffix,
                                         ext=args.ext, progress=not args.json, save_mask=args.save_mask)
        return _report_folder(results, args)
    result = restorer.restore_file(src, args.output, strategy=args.strategy, suffix=args.suffix, ext=args.ext,
                                   overwrite=args.overwrite, save_mask=args.save_mask)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif result.get("error"):
        print(f"FAILED {src}: {result['error']}", file=sys.stderr)
    else:
        how = f"left as it is: {result['reason']}" if result.get("reason") else f"{result['method']}, {result['severity']}"
        print(f"{src} -> {result['output']} ({how}, {result['ms']:.1f} ms)")
    return 1 if result.get("error") else 0
