"""The ``artrestore`` command line.

Subcommands: ``restore`` (a file or a folder), ``analyze``, ``evaluate``, ``serve`` (gRPC
stand-in for TF Serving), ``web`` (FastAPI), ``demo`` (the README's main job) and ``train ...``
(data, features, toolbox, search, router, calibrate, unet, export). Exit status: 0 when
everything asked for succeeded, 1 when some inputs failed (each reported), 2 for usage errors.
Heavy modules are imported inside each handler so ``artrestore --help`` and classical restores
stay fast.
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys

from artrestore import __version__

EXAMPLES = """examples:
  artrestore restore -i damaged.jpg -o restored/              # auto strategy, writes restored/damaged_restored.png
  artrestore restore -i scans/ -o out/ --recursive --workers 2 --strategy classical
  artrestore restore -i photo.png -o out/ --json               # print the info dict as JSON
  artrestore analyze damaged.jpg                               # the 14 damage features and the route
  artrestore evaluate --data work/dataset --out report/         # PSNR/SSIM/time table + figures
  artrestore demo                                               # restore the bundled samples + report
  artrestore serve --model-dir models/ --port 8500             # local TF-Serving stand-in (gRPC)
  artrestore train data --src ../shared/data/clean --out work/dataset
"""


def _add_restore(sub):
    p = sub.add_parser("restore", help="restore an image or a folder of images",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Outputs are written atomically; inputs are never overwritten.")
    p.add_argument("-i", "--input", required=True, help="image file or folder")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("-s", "--strategy", default="auto", choices=["auto", "classical", "ml_guided", "dl", "deep_learning"])
    p.add_argument("--suffix", default="restored", help="appended to output names (default: restored)")
    p.add_argument("--ext", default="png", choices=["png", "jpg", "bmp", "tif", "webp", "auto"],
                   help="output format; auto keeps the input's")
    p.add_argument("--recursive", action="store_true", help="also restore images in subfolders")
    p.add_argument("--workers", type=int, default=1, help="parallel workers for folders")
    p.add_argument("--overwrite", action="store_true", help="redo files whose output already exists")
    p.add_argument("--no-dl", action="store_true", help="never load TensorFlow; severe images use ML-guided classical")
    p.add_argument("--dl-backend", default="local", help="local (in-process) or grpc://host:port")
    p.add_argument("--router", help="router folder (default: the bundled one)")
    p.add_argument("--unet", help="U-Net folder (default: the bundled one)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.set_defaults(handler=_restore)


def _restorer(args):
    from artrestore.restorer import HybridRestorer

    return HybridRestorer(ml_model_path=args.router, dl_model_path=args.unet, dl_backend=args.dl_backend,
                          use_dl=not args.no_dl)


def _restore(args) -> int:
    src = pathlib.Path(args.input)
    restorer = _restorer(args)
    if src.is_dir():
        results = restorer.batch_restore(src, args.output, strategy=args.strategy, recursive=args.recursive,
                                         workers=args.workers, overwrite=args.overwrite, suffix=args.suffix,
                                         ext=args.ext, progress=not args.json)
        failed = [r for r in results if r.get("error")]
        if args.json:
            print(json.dumps(results, indent=2, default=str))
        else:
            done = sum(1 for r in results if r.get("status") == "restored")
            skipped = sum(1 for r in results if r.get("status") == "skipped")
            print(f"restored {done}, skipped {skipped} (already done), failed {len(failed)}; "
                  f"summary in {pathlib.Path(args.output) / 'summary.csv'}")
            for r in failed:
                print(f"  FAILED {r['file']}: {r['error']}", file=sys.stderr)
        return 1 if failed else 0
    result = restorer.restore_file(src, args.output, strategy=args.strategy, suffix=args.suffix, ext=args.ext,
                                   overwrite=args.overwrite)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif result.get("error"):
        print(f"FAILED {src}: {result['error']}", file=sys.stderr)
    else:
        print(f"{src} -> {result['output']} ({result['method']}, {result['severity']}, {result['ms']:.1f} ms)")
    return 1 if result.get("error") else 0


def _analyze(args) -> int:
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


def _evaluate(args) -> int:
    from artrestore.evaluation import evaluate

    report = evaluate(args.data, args.out, split=args.split, limit=args.limit, use_dl=not args.no_dl,
                      router_path=args.router, unet_path=args.unet)
    print(report.read_text())
    return 0


def _demo(args) -> int:
    from artrestore.evaluation import demo

    return demo(args.out, use_dl=not args.no_dl)


def _serve(args) -> int:
    from artrestore.serving import serve_forever

    serve_forever(args.model_dir, port=args.port, host=args.host, max_batch=args.max_batch,
                  batch_timeout_ms=args.batch_timeout_ms)
    return 0


def _web(args) -> int:
    import uvicorn

    uvicorn.run("artrestore.api:app", host=args.host, port=args.port, workers=1)
    return 0


def _train(args) -> int:
    step = args.step
    if step == "unet":  # runs on GPU machines without the compiled core, so import nothing else
        from artrestore.dl import TrainConfig, UNetConfig, train_unet

        cfg = TrainConfig(clean_dir=args.clean, out_dir=args.out, epochs=args.epochs, steps_per_epoch=args.steps,
                          batch_size=args.batch_size, learning_rate=args.lr, loss=args.loss, seed=args.seed,
                          variants_per_image=args.variants, time_budget_s=args.time_budget,
                          init_from=args.init or args.init_partial, init_partial=bool(args.init_partial),
                          patience=args.patience, extra_train_dir=args.extra_train)
        meta = train_unet(cfg, UNetConfig(base_filters=args.base, depth=args.depth, global_context=args.context))
        print(json.dumps(meta["validation"], indent=2))
        return 0
    from artrestore import data, router_fit

    if step == "packaged-images":
        written, kept = data.export_packaged_images(args.out)
        print(f"wrote {len(written)} images to {args.out}" + (f" ({len(kept)} already there, kept)" if kept else ""))
        return 0
    if step == "data":
        report = data.build_dataset(args.src, args.out, per_image=args.per_image, size=args.size, seed=args.seed)
        print(f"wrote {report.pairs} pairs to {args.out}")
        for name, error in report.failed:
            print(f"  FAILED {name}: {error}", file=sys.stderr)
        return 1 if report.failed else 0
    if step == "features":
        path, errors = router_fit.feature_table(args.data, args.out)
    elif step == "search":
        path, errors = router_fit.parameter_search(args.data, args.out, split=args.split, workers=args.workers)
    elif step == "router":
        path, errors = router_fit.fit_router(args.table, args.out, seed=args.seed), []
    elif step == "calibrate":
        dl_restore = None
        if args.with_unet:
            from artrestore.dl import UNetRestorer

            dl_restore = UNetRestorer(args.unet).restore
        result = router_fit.calibrate(args.data, args.router, dl_restore=dl_restore,
                                      seconds_cost_db=args.seconds_cost_db, gpu_speedup=args.gpu_speedup)
        print(json.dumps(result, indent=2))
        return 1 if result["errors"] else 0
    elif step == "toolbox":
        summary, errors = router_fit.evaluate_toolbox(args.data, split=args.split)
        _print_toolbox(summary)
        path = None
    elif step == "unet-test":
        from artrestore.dl import evaluate_on_pairs

        rows = evaluate_on_pairs(args.data, args.out, split=args.split, model_dir=args.unet)
        for sev in ("light", "moderate", "severe"):
            sel = [r for r in rows if r["severity"] == sev]
            if sel:
                mean = lambda k: sum(r[k] for r in sel) / len(sel)
                print(f"{sev}: {len(sel)} pairs, PSNR {mean('input_psnr'):.2f} -> {mean('output_psnr'):.2f} dB, "
                      f"SSIM {mean('input_ssim'):.3f} -> {mean('output_ssim'):.3f}")
        return 0
    elif step == "export":
        from artrestore.serving import export_for_serving

        print(export_for_serving(args.unet, args.out, model_name=args.name, version=args.version,
                                 overwrite=args.overwrite))
        return 0
    else:  # pragma: no cover - argparse restricts the choices
        raise AssertionError(step)
    if path:
        print(f"wrote {path}")
    for error in errors:
        print(f"  FAILED {error}", file=sys.stderr)
    return 1 if errors else 0


def _print_toolbox(summary) -> None:
    severities = ["light", "moderate", "severe"]
    print("| technique | " + " | ".join(f"{s} PSNR / SSIM" for s in severities) + " |")
    print("|---|" + "---|" * len(severities))
    for name, by_sev in summary.items():
        cells = [f"{by_sev[s][0]:.2f} / {by_sev[s][1]:.3f}" if s in by_sev else "-" for s in severities]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for s in severities:
        ranked = sorted((v[s][0], k) for k, v in summary.items() if s in v and not k.startswith("input"))
        if ranked:
            print(f"best on {s}: {ranked[-1][1]} ({ranked[-1][0]:.2f} dB)")


def _add_train(sub):
    p = sub.add_parser("train", help="build data, search parameters, fit the router, train/export the U-Net")
    t = p.add_subparsers(dest="step", required=True)
    d = t.add_parser("data", help="synthesize a paired dataset from clean images")
    d.add_argument("--src", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--per-image", type=int, default=4)
    d.add_argument("--size", type=int, default=512)
    d.add_argument("--seed", type=int, default=0)
    f = t.add_parser("features", help="write fft_features.csv for a paired dataset")
    f.add_argument("--data", required=True)
    f.add_argument("--out", required=True)
    s = t.add_parser("search", help="40-combination parameter search -> regression_training_data.csv")
    s.add_argument("--data", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--split", default="train")
    s.add_argument("--workers", type=int, default=0)
    r = t.add_parser("router", help="fit the random-forest router from a search table")
    r.add_argument("--table", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=0)
    c = t.add_parser("calibrate", help="choose decision thresholds on the validation pairs")
    c.add_argument("--data", required=True)
    c.add_argument("--router", required=True)
    c.add_argument("--with-unet", action="store_true", help="count the U-Net (runs it on every val pair)")
    c.add_argument("--unet", help="U-Net folder (default: bundled)")
    c.add_argument("--seconds-cost-db", type=float, default=1.0, help="dB of PSNR one second of time is worth")
    c.add_argument("--gpu-speedup", type=float, default=60.0,
                   help="how much faster the U-Net runs when served from a GPU (for the accelerated thresholds)")
    b = t.add_parser("toolbox", help="PSNR/SSIM of every classical technique per severity")
    b.add_argument("--data", required=True)
    b.add_argument("--split", default="val")
    u = t.add_parser("unet", help="train the U-Net on pairs synthesized on the fly")
    u.add_argument("--clean", required=True, help="folder of clean images")
    u.add_argument("--out", required=True)
    u.add_argument("--epochs", type=int, default=50)
    u.add_argument("--steps", type=int, default=300, help="steps per epoch")
    u.add_argument("--batch-size", type=int, default=8)
    u.add_argument("--lr", type=float, default=1e-4)
    u.add_argument("--loss", default="mse", choices=["mse", "l1", "mse_ssim", "mse_freq", "mse_ssim_freq"])
    u.add_argument("--base", type=int, default=32)
    u.add_argument("--depth", type=int, default=4)
    u.add_argument("--variants", type=int, default=24)
    u.add_argument("--seed", type=int, default=0)
    u.add_argument("--time-budget", type=float, default=1e9, help="seconds; stop after the epoch that passes it")
    init = u.add_mutually_exclusive_group()
    init.add_argument("--init", help="continue from this U-Net folder (its architecture; --context may add the global branch)")
    init.add_argument("--init-partial", help="build --base/--depth and copy every layer of this U-Net folder that fits "
                                             "(name and shape), e.g. the global branch into a wider U-Net")
    u.add_argument("--context", action=argparse.BooleanOptionalAction, default=True,
                   help="global branch: a 128^2 thumbnail of the whole image steers colour and the bottleneck")
    u.add_argument("--patience", type=int, default=12, help="early-stopping patience in epochs")
    u.add_argument("--extra-train", help="folder of more clean images used for training only (never validation)")
    pk = t.add_parser("packaged-images", help="write the photographs bundled with scikit-image/scikit-learn as PNG")
    pk.add_argument("--out", required=True)
    ut = t.add_parser("unet-test", help="per-pair input/output PSNR and SSIM of the U-Net -> test_results.csv")
    ut.add_argument("--data", required=True)
    ut.add_argument("--out", required=True)
    ut.add_argument("--split", default="test")
    ut.add_argument("--unet", help="U-Net folder (default: bundled)")
    e = t.add_parser("export", help="export the U-Net as a versioned SavedModel for TF Serving")
    e.add_argument("--unet", help="U-Net folder (default: bundled)")
    e.add_argument("--out", required=True, help="model base path")
    e.add_argument("--name", default="artrestore_unet")
    e.add_argument("--version", type=int, default=1)
    e.add_argument("--overwrite", action="store_true")
    p.set_defaults(handler=_train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artrestore", description="Hybrid restoration of damaged artworks and photos.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"artrestore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_restore(sub)
    a = sub.add_parser("analyze", help="print the 14 damage features, severity, method and parameters")
    a.add_argument("images", nargs="+")
    a.add_argument("--router")
    a.set_defaults(handler=_analyze)
    ev = sub.add_parser("evaluate", help="compare every strategy on a paired test set (Markdown + PNG report)")
    ev.add_argument("--data", required=True)
    ev.add_argument("--out", required=True)
    ev.add_argument("--split", default="test")
    ev.add_argument("--limit", type=int)
    ev.add_argument("--no-dl", action="store_true")
    ev.add_argument("--router")
    ev.add_argument("--unet")
    ev.set_defaults(handler=_evaluate)
    dm = sub.add_parser("demo", help="restore the bundled sample images and write a report")
    dm.add_argument("--out", default="artrestore-demo")
    dm.add_argument("--no-dl", action="store_true")
    dm.set_defaults(handler=_demo)
    sv = sub.add_parser("serve", help="run the local TF-Serving stand-in (gRPC PredictionService)")
    sv.add_argument("--model-dir", required=True, help="model base path with <name>/<version>/saved_model.pb")
    sv.add_argument("--port", type=int, default=8500)
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--max-batch", type=int, default=32)
    sv.add_argument("--batch-timeout-ms", type=float, default=2.0)
    sv.set_defaults(handler=_serve)
    w = sub.add_parser("web", help="run the FastAPI web app")
    w.add_argument("--host", default="127.0.0.1")
    w.add_argument("--port", type=int, default=8000)
    w.set_defaults(handler=_web)
    _add_train(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except (OSError, ValueError) as error:
        print(f"artrestore: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
