"""U-Net tiles per second: in-process TensorFlow vs the gRPC stand-in (same SavedModel weights),
with and without server-side batching, 1 and 4 concurrent clients; and the client's import time.

Run: pytest benchmarks/test_serving_speed.py --benchmark-json=out/serving.json
then: python benchmarks/report.py out/serving.json
Each round sends 16 tiles of 256 x 256 per request (what RemoteUNet sends); tiles/s is in
extra_info. The server runs as a separate process, as in production.
"""
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from artrestore.dl.inference import UNetRestorer
from artrestore.dl.tiling import make_context
from artrestore.serving.client import TFServingClient
from artrestore.serving.export import export_for_serving

TILES = 16


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("srv")
    export_for_serving(None, base)
    return base


@pytest.fixture(scope="module")
def tiles():
    return np.random.default_rng(0).random((TILES, 256, 256, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def context(tiles):
    # The bundled model is a global-context one: each request carries the image's thumbnail.
    return make_context(tiles[0])


def _start(model_base, max_batch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "artrestore.cli", "serve", "--model-dir", str(model_base),
                             "--port", str(port), "--max-batch", str(max_batch)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=120)
    while not client.healthy():
        assert proc.poll() is None
        time.sleep(0.5)
    client.predict(np.zeros((TILES, 256, 256, 3), np.float32), np.zeros((128, 128, 3), np.float32))  # warm up
    return proc, port


@pytest.fixture(scope="module", params=[64, 1], ids=["batching", "no-batching"])
def server(request, model_base):
    proc, port = _start(model_base, request.param)
    yield request.param, port
    proc.terminate()
    proc.wait(timeout=20)


def test_tiles_in_process(benchmark, tiles, context):
    benchmark.group = "U-Net 16 tiles, 1 client"
    unet = UNetRestorer()
    unet.predict_tiles(tiles, context)
    benchmark.pedantic(unet.predict_tiles, args=(tiles, context), rounds=5, iterations=1)
    benchmark.extra_info["tiles_per_s"] = TILES / benchmark.stats.stats.median


def test_tiles_grpc(benchmark, server, tiles, context):
    max_batch, port = server
    benchmark.group = "U-Net 16 tiles, 1 client"
    benchmark.name = f"grpc stand-in ({'batching' if max_batch > 1 else 'no batching'})"
    client = TFServingClient(f"127.0.0.1:{port}", timeout_s=120)
    benchmark.pedantic(client.predict, args=(tiles, context), rounds=5, iterations=1)
    benchmark.extra_info["tiles_per_s"] = TILES / benchmark.stats.stats.median


def _concurrent(call, clients=4, requests=2):
    def work():
        for _ in range(requests):
            call()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]


def test_tiles_in_process_4_threads(benchmark, tiles, context):
    benchmark.group = "U-Net 16 tiles x 8 requests, 4 clients"
    unet = UNetRestorer()
    benchmark.pedantic(_concurrent, args=(lambda: unet.predict_tiles(tiles, context),), rounds=3, iterations=1)
    benchmark.extra_info["tiles_per_s"] = 8 * TILES / benchmark.stats.stats.median


def test_tiles_grpc_4_clients(benchmark, server, tiles, context):
    max_batch, port = server
    benchmark.group = "U-Net 16 tiles x 8 requests, 4 clients"
    clients = [TFServingClient(f"127.0.0.1:{port}", timeout_s=300) for _ in range(4)]
    it = iter(range(10**9))
    benchmark.pedantic(_concurrent, args=(lambda: clients[next(it) % 4].predict(tiles, context),), rounds=3, iterations=1)
    benchmark.extra_info["tiles_per_s"] = 8 * TILES / benchmark.stats.stats.median


def test_client_import_time(benchmark):
    benchmark.group = "client import (fresh process)"
    code = "import time; t = time.perf_counter(); import artrestore.serving.client; print(time.perf_counter() - t)"
    seconds = []
    benchmark.pedantic(lambda: seconds.append(float(subprocess.run([sys.executable, "-c", code], check=True,
                                                                   capture_output=True, text=True).stdout)),
                       rounds=5, iterations=1)
    benchmark.extra_info["import_s_median"] = float(np.median(seconds))
