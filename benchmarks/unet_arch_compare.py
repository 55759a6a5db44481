"""Which U-Net architecture (and loss) buys the most validation quality per operation.

Candidates (``CANDIDATES``): the shipped plain U-Net and variants of it (narrower, deeper, NAF
blocks at two widths and depths, a Charbonnier loss). Every candidate is trained from scratch on the
same pairs (same seed, so the same damaged images and the same batches) for the same number of
steps, then scored on the training family's validation pairs (never the check family). Two
baseline copies trained in different calls give the noise between identical runs.

Steps:
  train   (the lent GPU) candidates in parallel processes sharing the GPU, each
          ``artrestore train unet-broad --architecture ... --epochs N``; writes one JSON with each
          run's validation, steps, seconds and loss curves (weights are not kept).
  cost    (any CPU) GFLOP per 256^2 tile (TensorFlow's count of the traced graph, element-wise
          work included), parameters, float16 weight MB, and ONNX Runtime fp32 ms per 256^2 tile
          and per 1024^2 pass on 2 threads, for each candidate with random weights (speed does not
          depend on the weights).
  profile (any CPU) ONNX Runtime's own profile of candidates' 1024^2 passes: the share of kernel
          time per operator type (where a graph's CPU time goes, beyond its GFLOP).
  gpu     (the lent GPU, JAX backend) inference throughput of each candidate in the GPU tier's
          precision: 256^2 tiles per second in batches of 64, random weights.
  report  a markdown table from the train JSONs and the cost JSON.

Usage:
  python benchmarks/unet_arch_compare.py train --candidates plain32,plain16 --tag call1 \\
      --train DIR [--train DIR ...] --val DIR --epochs 12 --minutes 7 --out $OUT
  python benchmarks/unet_arch_compare.py cost --out benchmarks/results/unet_arch/cost.json
  python benchmarks/unet_arch_compare.py report benchmarks/results/unet_arch/*.json
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tarfile
import time

from artrestore.training.losses import BROAD_LOSS

# name -> UNetConfig overrides of the default global-context U-Net, and the loss.
CANDIDATES = {
    "plain32": ({}, BROAD_LOSS),                                   # the shipped architecture
    "plain16": ({"base_filters": 16}, BROAD_LOSS),                 # a quarter of the operations
    "plain48": ({"base_filters": 48}, BROAD_LOSS),                 # twice the operations
    "plain32_depth5": ({"depth": 5}, BROAD_LOSS),                  # twice the receptive field
    "naf32": ({"block": "naf"}, BROAD_LOSS),                       # NAF blocks (1, 1, 2, 2)
    "naf32_deep": ({"block": "naf", "naf_blocks": [2, 2, 4, 4]}, BROAD_LOSS),
    "naf48": ({"block": "naf", "base_filters": 48}, BROAD_LOSS),   # NAF near the shipped operations
    "plain32_charbonnier": ({}, "charbonnier_ssim"),               # the loss alone changed
}


def _train(args) -> int:
    out = pathlib.Path(args.out)
    runs = pathlib.Path(args.runs)
    names = args.candidates.split(",")
    unknown = set(names) - set(CANDIDATES)
    if unknown:
        raise SystemExit(f"unknown candidates {sorted(unknown)}; known: {sorted(CANDIDATES)}")
    env = {**os.environ, "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 / len(names):.2f}"}
    procs = {}
    for name in names:
        architecture, loss = CANDIDATES[name]
        cmd = [sys.executable, "-m", "artrestore.cli", "train", "unet-broad", "--val", args.val,
               "--out", str(runs / name), "--architecture", json.dumps(architecture), "--loss", loss,
               "--epochs", str(args.epochs), "--steps-per-epoch", str(args.steps_per_epoch),
               "--minutes", str(args.minutes), "--lr-schedule", "cosine",
               "--learning-rate", str(args.learning_rate), "--variants", "1", "--val-variants", "2",
               "--clean-fraction", "0.3", "--severity-weights", "0.45,0.3,0.25", "--seed", str(args.seed),
               "--workers", str(max(1, (os.cpu_count() or 4) // len(names))),
               "--notes", f"architecture comparison {args.tag}: {name}"]
        for folder in args.train:
            cmd += ["--train", folder]
        log = open(runs.parent / f"{args.tag}_{name}.log", "w")
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    results = {}
    for name, (proc, log) in procs.items():
        code = proc.wait()
        log.close()
        meta_path = runs / name / "model_metadata.json"
        if code or not meta_path.exists():
            results[name] = {"error": f"exit {code}"}
            continue
        meta = json.loads(meta_path.read_text())
        run = meta["training"]
        results[name] = {"architecture": meta["architecture"], "loss": run["config"]["loss"],
                         "epochs_run": run["epochs_run"], "best_epoch": run["best_epoch"],
                         "steps": run["epochs_run"] * run["config"]["steps_per_epoch"],
                         "seconds": run["seconds"], "validation": run["validation"],
                         "loss_history": run["loss_history"], "val_loss_history": run["val_loss_history"]}
    record = {"tag": args.tag, "when": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
              "commit": os.environ.get("ARTRESTORE_COMMIT", "unknown"), "epochs": args.epochs,
              "minutes": args.minutes, "learning_rate": args.learning_rate, "seed": args.seed,
              "parallel": len(names), "train": args.train, "val": args.val, "results": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"arch_{args.tag}.json").write_text(json.dumps(record, indent=1))
    with tarfile.open(out / f"arch_{args.tag}_logs.tar.gz", "w:gz") as tar:
        for log in sorted(runs.parent.glob(f"{args.tag}_*.log")):
            tar.add(log, arcname=log.name)
    return 0 if all("error" not in r for r in results.values()) else 1


def _cost(args) -> int:
    import numpy as np
    import onnxruntime as ort

    from artrestore.training.export_onnx import gflop_per_tile

    rows = {}
    for name, (architecture, _) in CANDIDATES.items():
        model, config = _model(name)
        session = _onnx_session(model, config, args.threads)
        row = {"architecture": architecture, "gflop_256": gflop_per_tile(model, config),
               "params": int(model.count_params()), "weights_mb_fp16": 2 * model.count_params() / 1e6}
        for side, repeats in ((256, 20), (1024, 3)):
            feed = _onnx_feeds(session, side)
            session.run(None, feed)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                session.run(None, feed)
                times.append(time.perf_counter() - t)
            row[f"onnx_fp32_ms_{side}"] = 1e3 * float(np.median(times))
        rows[name] = row
        print(name, {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    record = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.processor() or platform.machine(),
              "threads": args.threads, "onnxruntime": ort.__version__, "cost": rows}
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(record, indent=1))
    return 0


def _model(name: str, dtype_policy=None):
    """(Keras model with fresh random weights, its UNetConfig) of a candidate."""
    from artrestore.dl.arch import build_unet
    from artrestore.dl.contract import UNetConfig

    config = UNetConfig(global_context=True, **CANDIDATES[name][0])
    return build_unet(config, dtype_policy=dtype_policy), config


def _onnx_session(model, config, threads: int, **options):
    """An ONNX Runtime CPU session of ``model`` (tf2onnx, fp32) on ``threads`` threads."""
    import onnxruntime as ort

    from artrestore.training.export_onnx import convert

    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = threads
    for key, value in options.items():
        setattr(session_options, key, value)
    return ort.InferenceSession(convert(model, config).SerializeToString(), session_options,
                                providers=["CPUExecutionProvider"])


def _onnx_feeds(session, side: int) -> dict:
    """Random inputs for one ``side``^2 image (and its context thumbnail), fixed seed."""
    import numpy as np

    from artrestore.dl.contract import CONTEXT, CONTEXT_KEY

    rng = np.random.default_rng(0)
    return {i.name: rng.random((1, CONTEXT, CONTEXT, 3) if CONTEXT_KEY in i.name else (1, side, side, 3), np.float32)
            for i in session.get_inputs()}


def _profile(args) -> int:
    import collections

    rows = {}
    for name in args.candidates.split(","):
        session = _onnx_session(*_model(name), args.threads, enable_profiling=True,
                                profile_file_prefix=f"/tmp/unet_arch_profile_{name}")
        feed = _onnx_feeds(session, 1024)
        for _ in range(args.repeats):
            session.run(None, feed)
        events = json.loads(pathlib.Path(session.end_profiling()).read_text())
        per_op = collections.Counter()
        for event in events:
            if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                per_op[event["args"]["op_name"]] += event["dur"]
        total = sum(per_op.values())
        rows[name] = {"kernel_ms_per_pass": total / args.repeats / 1e3,
                      "share": {op: round(us / total, 4) for op, us in per_op.most_common()}}
        print(name, round(rows[name]["kernel_ms_per_pass"]), {op: f"{100 * v:.0f}%"
                                                             for op, v in list(rows[name]["share"].items())[:8]})
    pathlib.Path(args.out).write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M"), "threads": args.threads,
                                                  "side": 1024, "repeats": args.repeats, "profile": rows}, indent=1))
    return 0


def _gpu(args) -> int:
    import jax
    import numpy as np

    from artrestore.dl.contract import COMPUTE_PRECISIONS, CONTEXT, CONTEXT_KEY, GPU_PRECISION, INPUT_KEY

    rows = {}
    for name in args.candidates.split(","):
        model, _ = _model(name, COMPUTE_PRECISIONS[GPU_PRECISION])
        rng = np.random.default_rng(0)
        feeds = {INPUT_KEY: rng.random((args.batch, 256, 256, 3), np.float32),
                 CONTEXT_KEY: rng.random((args.batch, CONTEXT, CONTEXT, 3), np.float32)}
        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        forward = jax.jit(lambda t, n, x, model=model: model.stateless_call(t, n, x, training=False)[0])
        start = time.perf_counter()
        forward(trainable, frozen, feeds).block_until_ready()
        compile_s = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            forward(trainable, frozen, feeds).block_until_ready()
            times.append(time.perf_counter() - start)
        rows[name] = {"tiles_per_s": args.batch / float(np.median(times)), "compile_s": compile_s}
        print(name, {k: round(v, 1) for k, v in rows[name].items()}, flush=True)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(),
                               "device": str(jax.devices()[0]), "precision": GPU_PRECISION, "batch": args.batch,
                               "gpu": rows}, indent=1))
    return 0


def _report(args) -> int:
    cost, trains = {}, []
    for path in args.files:
        data = json.loads(pathlib.Path(path).read_text())
        if "cost" in data:
            cost = data["cost"]
        else:
            trains.append(data)
    base = cost.get("plain32", {})
    print("| candidate (call) | GFLOP / 256² | ONNX ms 1024² (x plain32) | weights MB | steps | "
          "val PSNR light / moderate / severe | mean gain over input, dB | gain per GFLOP |")
    print("|---|---|---|---|---|---|---|---|")
    for data in trains:
        for name, r in data["results"].items():
            if "error" in r:
                print(f"| {name} ({data['tag']}) | failed: {r['error']} |")
                continue
            v = r["validation"]
            gain = sum(v[s]["psnr"] - v[s]["input_psnr"] for s in ("light", "moderate", "severe")) / 3
            c = cost.get(name)
            if c:
                ratio = c["onnx_fp32_ms_1024"] / base["onnx_fp32_ms_1024"] if base else float("nan")
                costs = (f"{c['gflop_256']:.1f} | {c['onnx_fp32_ms_1024']:.0f} ({ratio:.2f}x) | "
                         f"{c['weights_mb_fp16']:.1f}")
                per_gflop = f"{gain / c['gflop_256']:+.3f}"
            else:
                costs, per_gflop = "? | ? | ?", "?"
            psnr = " / ".join(f"{v[s]['psnr']:.2f}" for s in ("light", "moderate", "severe"))
            print(f"| {name} ({data['tag']}) | {costs} | {r['steps']} | {psnr} | {gain:+.2f} | {per_gflop} |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    t = steps.add_parser("train")
    t.add_argument("--candidates", required=True)
    t.add_argument("--tag", required=True)
    t.add_argument("--train", action="append", required=True)
    t.add_argument("--val", required=True)
    t.add_argument("--epochs", type=int, default=12)
    t.add_argument("--minutes", type=float, default=7.0)
    t.add_argument("--learning-rate", type=float, default=5e-4)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--steps-per-epoch", type=int, default=400)
    t.add_argument("--runs", default="/tmp/arch_runs/models")
    t.add_argument("--out", required=True)
    c = steps.add_parser("cost")
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--out", required=True)
    f = steps.add_parser("profile")
    f.add_argument("--candidates", default="plain32,naf32")
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--repeats", type=int, default=3)
    f.add_argument("--out", required=True)
    g = steps.add_parser("gpu")
    g.add_argument("--candidates", default="plain32,naf32,plain16")
    g.add_argument("--batch", type=int, default=64)
    g.add_argument("--repeats", type=int, default=20)
    g.add_argument("--out", required=True)
    r = steps.add_parser("report")
    r.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.step == "train":
        pathlib.Path(args.runs).mkdir(parents=True, exist_ok=True)
    return {"train": _train, "cost": _cost, "profile": _profile, "gpu": _gpu, "report": _report}[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
