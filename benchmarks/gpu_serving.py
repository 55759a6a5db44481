"""Serving-side measurements of ``gpu_unet.py``: TF Serving's batching parameters swept over the
compiled U-Net, and the first image's time in a fresh process with the persistent compile cache.

Inputs: a compute precision name (``fp32``, ``bf16``, ``fp16``; ``dl.UNetRestorer``), the caller's
``jax`` module, and for ``first_image_seconds`` the compile-cache folder (``ARTRESTORE_JAX_CACHE``).
Outputs: ``batching_sweep`` one row per setting (``num_batch_threads``, ``max_batch_size``,
``batch_timeout_micros``; tiles/s, p50 and p95 request latency in ms; the set-up is in
``gpu_unet.py``'s docstring); ``first_image_seconds`` seconds from import to the first 1024^2
``restore`` in a new Python process (compilation included).
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np

PYTHON_SRC = pathlib.Path(__file__).resolve().parents[1] / "python"


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
    env = {**os.environ, "ARTRESTORE_JAX_CACHE": cache_dir, "PYTHONPATH": f"{PYTHON_SRC}:{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])
