"""The served self-ensemble two ways, on the training family's validation split: the eight views of
the whole image turned by the client (``dl.ensemble``, eight requests' worth of tiles) against the
eight views of each tile turned in the server's graph (``serving.export``'s ``serving_default_x8``,
one copy of the tiles). Same bundled U-Net, exported and served by the stand-in on this machine.

Validation pairs as ``benchmarks/unet_self_ensemble.py`` (``.devdata/clean_val`` fitted to 512 px,
damaged with the trainer's validation seeds, ``unet_broad_data.val_plan``). Per severity: PSNR /
SSIM of the input, one view, both eight-view variants, the mean difference in-graph minus client
with its standard error, the seconds per image and the tile bytes sent per image. Never the check
family: this decides whether the in-graph variant may replace the client's, on training data.

    python benchmarks/served_views_eval.py --out benchmarks/results/served_views_eval.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np


def measure(clean_dir: str, draws: int, limit: int | None) -> dict:
    from artrestore import metrics
    from artrestore.dl.ensemble import SelfEnsemble
    from artrestore.serving.client import RemoteUNet
    from artrestore.training.unet_broad_data import load_images, validation_pairs
    from test_latency_unet import start_server, wait_until_serving

    pairs = validation_pairs(load_images(clean_dir, 512), draws, limit=limit or None)
    proc, port, folder = start_server()
    try:
        wait_until_serving(proc, port, folder)
        remote = RemoteUNet(f"grpc://127.0.0.1:{port}", timeout_s=120)

        class TurnedByClient:  # the same server without its eight-view offer
            restore = remote.restore

        variants = {"x1": remote, "x8_client": SelfEnsemble(TurnedByClient(), 8), "x8_in_graph": SelfEnsemble(remote, 8)}
        sent = {"x1": 1, "x8_client": 8, "x8_in_graph": 1}  # copies of the tiles per image
        rows: dict[str, list] = {}
        seconds = {name: 0.0 for name in variants}
        for image, truth, _, severity in pairs:
            scores = [metrics.psnr(image, truth), metrics.ssim(image, truth)]
            for name, backend in variants.items():
                start = time.perf_counter()
                out = backend.restore(image)
                seconds[name] += time.perf_counter() - start
                scores += [metrics.psnr(out, truth), metrics.ssim(out, truth)]
            rows.setdefault(severity, []).append(scores)
    finally:
        proc.kill()
    names = ["input", *variants]
    table = {}
    for severity, values in rows.items():
        v = np.asarray(values)
        diff = v[:, 6] - v[:, 4]
        table[severity] = {"pairs": len(v), "psnr": dict(zip(names, v[:, 0::2].mean(0).round(3).tolist())),
                           "ssim": dict(zip(names, v[:, 1::2].mean(0).round(4).tolist())),
                           "in_graph_minus_client_db": round(float(diff.mean()), 3),
                           "in_graph_minus_client_se_db": round(float(diff.std(ddof=1) / np.sqrt(len(v))), 3)}
    n = len(pairs)
    return {"draws": draws, "images": n, "server": "artrestore serve stand-in, TensorFlow on this machine's CPU",
            "seconds_per_image": {k: round(s / n, 3) for k, s in seconds.items()},
            "tile_copies_sent_per_image": sent, "severities": table}


def main() -> None:
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # test_latency_unet's server helpers
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean-val", default=".devdata/clean_val")
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", default="benchmarks/results/served_views_eval.json")
    args = parser.parse_args()
    result = measure(args.clean_val, args.draws, args.limit)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
