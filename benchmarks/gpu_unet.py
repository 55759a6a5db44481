"""The U-Net on a GPU, per compute precision, against the device's measured peak (issue 22).

Usage (device, JAX backend):
    KERAS_BACKEND=jax python benchmarks/gpu_unet.py --pairs DIR --out benchmarks/results/unet_gpu_h200.json
    python benchmarks/gpu_unet.py --pack DIR --clean ../shared/data/clean     (here: the clean images)

``--pack`` writes 8 validation-split and 8 test-split clean images (``training.datasets.split_sources``,
seed 0, longer side <= 512 px) as PNG; on the device they are damaged with the broad (training) family
and the check family, so quality is measured without carrying damaged pairs.

Per precision (fp32, bf16, fp16; ``dl.UNetRestorer``): 256^2 tiles/s at batch 32 / 64 / 128 with
inputs already on the device; achieved TFLOP/s from XLA's own FLOP count of the compiled call and
the fraction of the peak (an 8192^3 matrix product in the same precision, same run); 1024^2 as one
pass (device-resident input); 1024^2 through the public ``restore`` (uint8 numpy in, uint8 numpy
out, thumbnail on the device), alone and as the eight-view self-ensemble (``dl.ensemble``);
1024^2 through the former 256-px tiler; 4096^2 through ``restore`` (one pass or budgeted tiles);
bytes per pixel of a pass (XLA memory analysis); PSNR per family and severity and its difference
to fp32. Then, for the default precision: a per-layer profile (each
convolution timed alone at its shape in the 1024^2 pass), the HBM bandwidth (a large copy), the
batching sweep for TF Serving's parameters (``dl.batching.Batcher`` over the compiled model, 8
client threads sending 16-tile requests, batch sizes padded to powers of two as TF Serving's
allowed_batch_sizes do) and a first-image time in fresh processes with the persistent compile cache
cold and warm. Medians of repeated runs after warm-up; compilation excluded except where named.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "benchmarks"))

from report import print_and_save  # noqa: E402

PRECISIONS = ("fp32", "bf16", "fp16")
PEAK_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
SEVERITIES = ("light", "moderate", "severe")


def pack(out: pathlib.Path, clean_dir: pathlib.Path, per_split: int = 8) -> None:
    import cv2

    from artrestore.imageio import read_image, write_image
    from artrestore.training.datasets import list_images, split_sources

    paths = list_images(clean_dir)
    names = [str(p.relative_to(clean_dir)) for p in paths]
    split = split_sources(names, 0)
    out.mkdir(parents=True, exist_ok=True)
    for part in ("val", "test"):
        chosen = [p for p, n in zip(paths, names) if split[n] == part][:per_split]
        for k, path in enumerate(chosen):
            image = read_image(path)
            factor = 512 / max(image.shape[:2])
            if factor < 1:
                image = cv2.resize(image, (round(image.shape[1] * factor), round(image.shape[0] * factor)),
                                   interpolation=cv2.INTER_AREA)
            write_image(out / f"{part}_{k:02d}.png", image)


def timed(fn, repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_tflops(jax, jnp, dtype: str, n: int = 8192) -> float:
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype=dtype)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n), dtype=dtype)
    matmul = jax.jit(lambda x, y: x @ y)
    return 2 * n**3 / timed(lambda: matmul(a, b).block_until_ready(), 10) / 1e12


def hbm_gbps(jax, jnp, gib: float = 4.0) -> float:
    x = jnp.ones((int(gib * 2**30 / 4),), jnp.float32)
    copy = jax.jit(lambda v: v * 1.0001)
    return 2 * x.nbytes / timed(lambda: copy(x).block_until_ready(), 10) / 1e9


def damaged_pairs(pairs_dir: pathlib.Path):
    from artrestore.check_family import check_damage
    from artrestore.imageio import read_image
    from artrestore.training.broad_damage import broad_damage

    out = []
    for path in sorted(pairs_dir.glob("*.png")):
        clean = read_image(path)
        family, damage = ("broad", broad_damage) if path.name.startswith("val") else ("check", check_damage)
        for s, severity in enumerate(SEVERITIES):
            out.append((family, severity, clean, damage(clean, severity, 100 + s)[0]))
    return out


def quality(restore, pairs) -> dict:
    from artrestore import metrics

    scores: dict = {}
    for family, severity, clean, damaged in pairs:
        scores.setdefault(f"{family}/{severity}", []).append(metrics.psnr(restore(damaged), clean))
    return {key: round(float(np.mean(v)), 4) for key, v in scores.items()}


def measure_precision(precision: str, pairs, jax, jnp) -> dict:
    from artrestore.dl.contract import CONTEXT, CONTEXT_KEY, INPUT_KEY
    from artrestore.dl.ensemble import SelfEnsemble
    from artrestore.dl.inference import UNetRestorer
    from artrestore.dl.tiling import make_context, plan_tiles, tiled_restore

    restorer = UNetRestorer(precision=precision, batch_size=8)
    forward = restorer._forward
    rng = np.random.default_rng(0)
    result: dict = {"precision": precision, "pass_budget_px": restorer.max_pass_pixels}

    def tile_inputs(n, side=256):
        return jax.device_put({INPUT_KEY: rng.random((n, side, side, 3), dtype=np.float32),
                               CONTEXT_KEY: rng.random((n, CONTEXT, CONTEXT, 3), dtype=np.float32)})

    # XLA's own count misses the convolutions it hands to cuDNN: the analytic count is used.
    result["gflop_per_tile"] = gflop_per_tile()
    tiles_per_s = {}
    for n in (32, 64, 128):
        batch = tile_inputs(n)
        tiles_per_s[n] = n / timed(lambda batch=batch: forward(batch, False).block_until_ready(), 10)
    result["tiles_per_s"] = tiles_per_s
    best = max(tiles_per_s.values())
    result["tflops_achieved"] = best * result["gflop_per_tile"] / 1e3
    image = (rng.random((1024, 1024, 3)) * 255).astype(np.uint8)
    whole = jax.device_put({INPUT_KEY: image[None].astype(np.float32) / 255,
                            CONTEXT_KEY: make_context(image.astype(np.float32) / 255)[None]})
    result["one_pass_1024_ms"] = 1e3 * timed(lambda: forward(whole, False).block_until_ready(), 20)
    result["one_pass_1024_tflops"] = 16 * result["gflop_per_tile"] / result["one_pass_1024_ms"]
    result["restore_1024_ms"] = 1e3 * timed(lambda: restorer.restore(image), 20)
    result["restore_1024_over_one_pass"] = result["restore_1024_ms"] / result["one_pass_1024_ms"]
    # The served profile's self-ensemble (dl.ensemble): eight dihedral views through the same restore.
    result["restore_1024_x8_ms"] = 1e3 * timed(lambda: SelfEnsemble(restorer, 8).restore(image), 10)
    # Its parts: the eight restores one after another (no batching of views), and the host work
    # alone (turning the views and back, the rounded mean) around an identity backend.
    result["restore_1024_8_sequential_ms"] = 1e3 * timed(lambda: [restorer.restore(image) for _ in range(8)], 10)
    identity = type("Identity", (), {"restore": staticmethod(lambda view: view.copy())})()
    result["x8_host_work_1024_ms"] = 1e3 * timed(lambda: SelfEnsemble(identity, 8).restore(image), 10)
    # Where the public path's extra time goes: the copies to and from the device and the model
    # call on a host uint8 array (the batcher's thread hop is the rest).
    area = restorer._area_inputs(1024, 1024, 1024, 1024)
    on_device = jax.device_put(image[None])
    out_u8 = forward({INPUT_KEY: on_device, **area}, True).block_until_ready()
    fresh = jax.jit(lambda a: a + 0)
    result["restore_parts_ms"] = {
        "to_device_uint8": 1e3 * timed(lambda: jax.device_put(image[None]).block_until_ready(), 20),
        # A fresh device array each time (JAX caches an array's host copy), less making it.
        "from_device_uint8": 1e3 * (timed(lambda: np.asarray(fresh(out_u8)), 20)
                                    - timed(lambda: fresh(out_u8).block_until_ready(), 20)),
        "pass_uint8_on_device": 1e3 * timed(lambda: forward({INPUT_KEY: on_device, **area}, True).block_until_ready(), 20),
        "pass_uint8_from_host": 1e3 * timed(lambda: np.asarray(forward({INPUT_KEY: image[None], **area}, True)), 20),
    }
    result["tiler256_1024_ms"] = 1e3 * timed(lambda: tiled_restore(image.astype(np.float32) / 255, restorer.predict_tiles,
                                                                   global_context=True, batch_size=16), 5)
    # The device's uint8 path against the host's float path: at most one level apart (rounding).
    result["uint8_path_max_diff"] = int(np.abs(restorer.restore(image).astype(int) - np.clip(
        np.rint(restorer.restore_float(image.astype(np.float32) / 255) * 255), 0, 255)).max())
    big = (rng.random((4096, 4096, 3)) * 255).astype(np.uint8)
    start = time.perf_counter()
    out = restorer.restore(big)
    (th, tw), rows, cols = plan_tiles(4096, 4096, restorer.max_pass_pixels)
    result["restore_4096"] = {"first_s": time.perf_counter() - start, "ok": out.shape == big.shape,
                              "passes": len(rows) * len(cols), "pass_shape": [th, tw],
                              "ms": 1e3 * timed(lambda: restorer.restore(big), 3, warmup=0)}
    analysis = forward.lower(restorer._probe_inputs(1024, 1024), True).compile().memory_analysis()
    result["pass_bytes_per_px"] = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
                                   + analysis.output_size_in_bytes) / 1024**2
    result["psnr"] = quality(restorer.restore, pairs)
    restorer.close()
    return result


def conv_layers(model, config, side: int) -> list[dict]:
    """The U-Net's convolutions (global branch excepted) at their places in a ``side``^2 pass:
    name, kind, input resolution, output resolution, kernel, channels and FLOPs (2 x MACs)."""
    rows = []
    for layer in model.layers:
        kind, name = type(layer).__name__, layer.name
        if kind not in ("Conv2D", "Conv2DTranspose") or name.startswith("ctx_"):
            continue
        kernel_shape = layer.get_weights()[0].shape
        if name.startswith("bottleneck"):
            level = config.depth
        elif name[:3] in ("enc", "dec"):
            level = int(name[3])
        elif name.startswith("up"):
            level = int(name[2]) + 1   # input level; the output is one level up
        else:
            level = 0                  # head
        res = side // 2**level
        if kind == "Conv2D":
            kh, kw, cin, cout = kernel_shape
            out_res, flops = res, 2 * res * res * kh * kw * cin * cout
        else:
            kh, kw, cout, cin = kernel_shape  # Keras: (kh, kw, out, in)
            out_res, flops = 2 * res, 2 * (2 * res) ** 2 * cin * cout
        rows.append({"layer": name, "kind": kind, "resolution": res, "out_resolution": out_res,
                     "kernel": (kh, kw), "cin": cin, "cout": cout, "flops": flops})
    return rows


def gflop_per_tile() -> float:
    """2 x MACs of every convolution of the bundled U-Net for one 256^2 tile (the global branch's
    small encoder adds 0.15 %, left out)."""
    from artrestore.dl.weights import load_model

    model, config, _ = load_model(None)
    return sum(r["flops"] for r in conv_layers(model, config, 256)) / 1e9


def layer_profile(precision: str, jax, jnp, side: int = 1024) -> list[dict]:
    """Each convolution of the network alone, at its place in a ``side``^2 pass, in ``precision``:
    time, GFLOP, TFLOP/s and the activations it reads and writes (MB)."""
    from artrestore.dl.weights import load_model

    model, config, _ = load_model(None)
    dtype = {"fp32": jnp.float32, "bf16": jnp.bfloat16, "fp16": jnp.float16}[precision]
    dims = ("NHWC", "HWIO", "NHWC")
    conv = jax.jit(lambda a, b: jax.lax.conv_general_dilated(a, b, (1, 1), "SAME", dimension_numbers=dims))
    up = jax.jit(lambda a, b: jax.lax.conv_transpose(a, b, (2, 2), "SAME", dimension_numbers=dims))
    rows = []
    for row in conv_layers(model, config, side):
        fn = conv if row["kind"] == "Conv2D" else up
        res, cin, cout = row["resolution"], row["cin"], row["cout"]
        x = jnp.ones((1, res, res, cin), dtype)
        w = jnp.ones((*row["kernel"], cin, cout), dtype)
        # Ten convolutions in one compiled call: the per-call dispatch (~0.05 ms) would otherwise
        # dominate the small layers.
        ten = jax.jit(lambda a, b, fn=fn: sum(fn(a + k, b)[0, 0, 0, 0] for k in range(10)))
        ms = 1e3 * timed(lambda ten=ten, x=x, w=w: ten(x, w).block_until_ready(), 10) / 10
        moved = (res * res * cin + row["out_resolution"] ** 2 * cout) * x.dtype.itemsize
        rows.append({"layer": row["layer"], "resolution": res, "cin": cin, "cout": cout, "ms": round(ms, 4),
                     "gflop": round(row["flops"] / 1e9, 3), "tflops": round(row["flops"] / ms / 1e9, 1),
                     "activations_mb": round(moved / 1e6, 2)})
    return rows


def kernel_trace(precision: str, jax, folder: str = "/tmp/artrestore-trace") -> dict:
    """GPU kernels of ten 1024^2 passes (JAX profiler, Perfetto trace): time per kernel family."""
    import glob
    import gzip
    import json

    from artrestore.dl.inference import UNetRestorer

    restorer = UNetRestorer(precision=precision)
    image = (np.random.default_rng(2).random((1024, 1024, 3)) * 255).astype(np.uint8)
    for _ in range(3):
        restorer.restore(image)
    with jax.profiler.trace(folder, create_perfetto_trace=True):
        for _ in range(10):
            restorer.restore(image)
    files = glob.glob(f"{folder}/**/perfetto_trace.json.gz", recursive=True)
    events = json.load(gzip.open(sorted(files)[-1]))
    events = events["traceEvents"] if isinstance(events, dict) else events
    threads = {(e.get("pid"), e.get("tid")): e.get("args", {}).get("name", "") for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    processes = {e.get("pid"): e.get("args", {}).get("name", "") for e in events
                 if e.get("ph") == "M" and e.get("name") == "process_name"}
    kernels: dict = {}
    raw: dict = {}
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        where = processes.get(e.get("pid"), "") + " " + threads.get((e.get("pid"), e.get("tid")), "")
        if "/device:GPU" not in where and "Stream" not in where:
            continue
        name = e["name"]
        lower = name.lower()
        family = ("convolution (cuDNN / cutlass)" if any(k in lower for k in ("conv", "cudnn", "sm90", "cutlass", "xmma", "gemm"))
                  else "memcpy" if "memcpy" in name.lower() else "fusion (elementwise, pooling, concat)"
                  if any(k in name.lower() for k in ("fusion", "loop", "input_", "reduce", "transpose", "concat")) else name[:60])
        kernels[family] = kernels.get(family, 0.0) + e["dur"] / 10 / 1e3  # ms per pass
        raw[name[:90]] = raw.get(name[:90], 0.0) + e["dur"] / 10 / 1e3
    restorer.close()
    return {"ms_per_pass": {k: round(v, 4) for k, v in sorted(kernels.items(), key=lambda kv: -kv[1])[:12]},
            "top_kernels_ms_per_pass": {k: round(v, 4) for k, v in sorted(raw.items(), key=lambda kv: -kv[1])[:15]},
            "gpu_busy_ms_per_pass": round(sum(kernels.values()), 4)}


def batching_sweep(precision: str, jax) -> list[dict]:
    from artrestore.dl.batching import Batcher
    from artrestore.dl.contract import CONTEXT, CONTEXT_KEY, INPUT_KEY
    from artrestore.dl.inference import UNetRestorer

    restorer = UNetRestorer(precision=precision)
    forward = restorer._forward
    rng = np.random.default_rng(1)
    request = {INPUT_KEY: rng.random((16, 256, 256, 3), dtype=np.float32),
               CONTEXT_KEY: rng.random((16, CONTEXT, CONTEXT, 3), dtype=np.float32)}

    def run_padded(batch: dict) -> np.ndarray:
        n = len(batch[INPUT_KEY])
        size = 1 << (n - 1).bit_length()   # allowed_batch_sizes: powers of two
        padded = {k: np.concatenate([v, np.zeros((size - n, *v.shape[1:]), v.dtype)]) if size > n else v
                  for k, v in batch.items()}
        return np.asarray(forward(padded, False))[:n]

    for size in (16, 32, 64, 128, 256):  # compile every allowed size first
        run_padded({k: np.concatenate([v] * (size // 16)) for k, v in request.items()})
    rows = []
    for threads in (1, 2, 4):
        for max_batch in (32, 64, 128, 256):
            for timeout_us in (0, 1000, 5000):
                batcher = Batcher(run_padded, max_batch, timeout_us / 1000, threads=threads)
                latencies, stop = [], time.perf_counter() + 1.2

                def client(batcher=batcher, latencies=latencies, stop=stop):
                    while time.perf_counter() < stop:
                        start = time.perf_counter()
                        batcher.submit(request)
                        latencies.append(time.perf_counter() - start)

                clients = [threading.Thread(target=client) for _ in range(8)]
                begin = time.perf_counter()
                for c in clients:
                    c.start()
                for c in clients:
                    c.join()
                elapsed = time.perf_counter() - begin
                batcher.stop()
                rows.append({"num_batch_threads": threads, "max_batch_size": max_batch,
                             "batch_timeout_micros": timeout_us, "tiles_per_s": 16 * len(latencies) / elapsed,
                             "p50_ms": 1e3 * float(np.percentile(latencies, 50)),
                             "p95_ms": 1e3 * float(np.percentile(latencies, 95))})
    restorer.close()
    return rows


def first_image_seconds(cache_dir: str) -> float:
    code = ("import time,numpy as np; t=time.perf_counter(); from artrestore.dl.inference import UNetRestorer; "
            "r=UNetRestorer(); r.restore(np.zeros((1024,1024,3),np.uint8)); print(time.perf_counter()-t)")
    env = {**os.environ, "ARTRESTORE_JAX_CACHE": cache_dir, "PYTHONPATH": f"{REPO / 'python'}:{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=pathlib.Path)
    parser.add_argument("--pack", type=pathlib.Path)
    parser.add_argument("--clean", type=pathlib.Path, default=REPO.parent / "shared" / "data" / "clean")
    parser.add_argument("--out")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--skip", default="", help="comma list of: layers, trace, sweep, cache")
    args = parser.parse_args()
    if args.pack:
        return pack(args.pack, args.clean)
    import jax
    import jax.numpy as jnp

    from artrestore.dl.contract import GPU_PRECISION

    results: dict = {"device": str(jax.devices()[0]), "device_kind": jax.devices()[0].device_kind,
                     "jax": jax.__version__, "peak_tflops": {}, "precisions": {}}
    for p in args.precisions.split(","):
        results["peak_tflops"][p] = peak_tflops(jax, jnp, PEAK_DTYPES[p])
    results["hbm_gb_per_s"] = hbm_gbps(jax, jnp)
    pairs = damaged_pairs(args.pairs) if args.pairs else []
    for p in args.precisions.split(","):
        row = measure_precision(p, pairs, jax, jnp)
        row["fraction_of_peak"] = row["tflops_achieved"] / results["peak_tflops"][p]
        results["precisions"][p] = row
        print(p, {k: v for k, v in row.items() if k != "psnr"}, flush=True)
        print_and_save(results, args.out)  # partial results survive a later failure
    base = results["precisions"].get("fp32", {}).get("psnr", {})
    for row in results["precisions"].values():
        row["psnr_minus_fp32"] = {k: round(v - base[k], 4) for k, v in row["psnr"].items() if k in base}
    skip = set(args.skip.split(","))
    if "layers" not in skip:
        results["layer_profile_1024"] = layer_profile(GPU_PRECISION, jax, jnp)
        print_and_save(results, args.out)
    if "trace" not in skip:
        try:
            results["kernel_trace_1024"] = kernel_trace(GPU_PRECISION, jax)
        except Exception as error:  # the profiler's Perfetto export is optional in some jaxlib builds
            results["kernel_trace_1024"] = {"error": repr(error)}
        print_and_save(results, args.out)
    if "sweep" not in skip:
        results["batching_sweep"] = batching_sweep(GPU_PRECISION, jax)
        print_and_save(results, args.out)
    if "cache" not in skip:
        cache = "/tmp/artrestore-jax-cache"
        results["first_image_s"] = {"cold_cache": first_image_seconds(cache), "warm_cache": first_image_seconds(cache)}
    print_and_save(results, args.out)


if __name__ == "__main__":
    main()
