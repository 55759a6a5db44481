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

Output: the results as JSON on stdout and, given ``--out``, in that file (``report.print_and_save``),
rewritten after each stage so partial results survive a later failure. The measurements live in
``gpu_measure.py`` (timing, peaks, per-layer profile, kernel trace) and ``gpu_serving.py``
(batching sweep, first-image time); this script holds the per-precision run and the command line.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "benchmarks"))

from gpu_measure import gflop_per_tile, hbm_gbps, kernel_trace, layer_profile, peak_tflops, timed  # noqa: E402
from gpu_serving import batching_sweep, first_image_seconds  # noqa: E402
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
