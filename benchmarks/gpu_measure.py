"""GPU measurement helpers of ``gpu_unet.py``: repeated timing, the device's peaks, and where a
U-Net pass spends its time (per convolution, per GPU kernel).

Inputs: the caller's ``jax`` / ``jax.numpy`` modules (this module imports neither at load time), a
compute precision name (``fp32``, ``bf16``, ``fp16``) or a NumPy / JAX dtype name, and the bundled
U-Net (``dl.weights.load_model(None)``); ``kernel_trace`` runs ``dl.UNetRestorer`` under the JAX
profiler and writes its Perfetto trace under ``folder``.
Outputs (plain numbers, lists and dicts for the JSON report): ``timed`` median seconds;
``peak_tflops`` TFLOP/s of an n^3 matrix product; ``hbm_gbps`` GB/s (10^9 bytes) of a large copy;
``conv_layers`` each convolution's place, shape and FLOPs; ``gflop_per_tile`` GFLOP per
256^2 tile; ``layer_profile`` per convolution ms, GFLOP, TFLOP/s and activations (MB, 10^6 bytes);
``kernel_trace`` GPU ms per 1024^2 pass per kernel family and per kernel.
"""
from __future__ import annotations

import statistics
import time

import numpy as np


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
