"""U-Net inference latency and throughput on whatever Keras backend / device is active.

Usage: KERAS_BACKEND=jax python benchmarks/gpu_unet.py --model MODEL_DIR [--out FILE.json]
Reports the median of repeated runs after warm-up (compilation excluded): one 256^2 tile
(batch 1), tiles/s at batch 32, one 1024^2 image through the tiler (25 overlapping tiles,
batch 16), and one 1024^2 image as a single fully-convolutional forward pass. A global-context
model gets its 128^2 thumbnail with every tile, as in production.
"""
import argparse
import os
import pathlib
import platform
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from report import print_and_save  # benchmarks/report.py, beside this script


def median_seconds(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--out")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from artrestore.dl.arch import import_keras, model_inputs
    from artrestore.dl.contract import CONTEXT
    from artrestore.dl.tiling import make_context, tiled_restore
    from artrestore.dl.weights import load_model

    keras = import_keras()
    model, config, _ = load_model(args.model)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        forward = jax.jit(lambda x: model(x, training=False))
        run_inputs = lambda x: np.asarray(jax.block_until_ready(forward(x)))
        device = str(jax.devices()[0])
    else:
        import tensorflow as tf

        forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        run_inputs = lambda x: forward(x).numpy()
        device = "CPU " + platform.processor()
    rng = np.random.default_rng(0)
    # A global-context model also gets the image's thumbnail with every tile; making it is timed
    # in the tiled figure, where it belongs to the image.
    thumbnail = rng.random((CONTEXT, CONTEXT, 3), dtype=np.float32)
    run = lambda x, context=thumbnail: run_inputs(model_inputs(config, x, context))
    tile1 = rng.random((1, 256, 256, 3), dtype=np.float32)
    tiles32 = rng.random((32, 256, 256, 3), dtype=np.float32)
    image = rng.random((1024, 1024, 3), dtype=np.float32)
    whole = image[None]
    results = {
        "backend": backend, "device": device, "cpu_count": os.cpu_count(), "parameters": model.count_params(),
        "tile_256_batch1_ms": 1e3 * median_seconds(lambda: run(tile1), args.repeats),
        "tiles_per_s_batch32": 32 / median_seconds(lambda: run(tiles32), max(3, args.repeats // 4)),
        "image_1024_tiled_ms": 1e3 * median_seconds(
            lambda: tiled_restore(image, run, global_context=config.global_context, batch_size=16),
            max(3, args.repeats // 4)),
        "image_1024_whole_ms": 1e3 * median_seconds(lambda: run(whole, make_context(image)),
                                                    max(3, args.repeats // 4)),
        "global_context": config.global_context,
    }
    print_and_save(results, args.out)


if __name__ == "__main__":
    main()
