"""Concurrent restores through ``HybridRestorer(dl_backend="grpc://...")`` against the stand-in model
server: the restorer's lock guards only the backend's creation, so requests from several threads
reach the server together and its batching sees them. Throughput (restores per second) with 4
client threads vs 1, the same 8 severe 512 x 512 images per round, strategy ``dl``.

Run: pytest benchmarks/test_restorer_concurrency.py --benchmark-json=out/concurrency.json
The ratio (``speedup_vs_1_thread`` in extra_info of the 4-thread entry) depends on how many cores
the server has to spare: on a machine whose cores one batch already fills, it stays near 1.
"""
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from artrestore.restorer import HybridRestorer
from artrestore.serving.client import TFServingClient
from artrestore.serving.export import export_for_serving
from artrestore.training.synthesis import synthesize_damage

IMAGES = 8
_THROUGHPUT = {}


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    base = tmp_path_factory.mktemp("srv")
    export_for_serving(None, base)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "artrestore.cli", "serve", "--model-dir", str(base),
                             "--port", str(port), "--max-batch", "64", "--batch-timeout-ms", "5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = TFServingClient(f"127.0.0.1:{port}", retries=0, timeout_s=120)
    while not client.healthy():
        assert proc.poll() is None, "stand-in server exited"
        time.sleep(0.5)
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def severe(photo_at):
    return [synthesize_damage(np.roll(photo_at(512), 64 * k, axis=1), "severe", seed=k)[0] for k in range(IMAGES)]


@pytest.fixture(scope="module")
def restorer(port, severe):
    r = HybridRestorer(dl_backend=f"grpc://127.0.0.1:{port}", dl_fallback="error", dl_timeout_s=300)
    r.restore(severe[0], "dl")  # creates the backend and warms the server up
    return r


def _restore_all(restorer, images, threads):
    queue = list(images)
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not queue:
                    return
                image = queue.pop()
            restored, info = restorer.restore(image, "dl")
            assert info["method"] == "deep_learning"

    workers = [threading.Thread(target=work) for _ in range(threads)]
    [t.start() for t in workers]
    [t.join() for t in workers]


@pytest.mark.parametrize("threads", [1, 4])
def test_grpc_restores(benchmark, restorer, severe, threads):
    benchmark.group = f"HybridRestorer grpc, {IMAGES} severe 512^2 images"
    benchmark.name = f"artrestore {threads} thread{'s' if threads > 1 else ''}"
    benchmark.pedantic(_restore_all, args=(restorer, severe, threads), rounds=2, iterations=1)
    _THROUGHPUT[threads] = IMAGES / benchmark.stats.stats.median
    benchmark.extra_info["restores_per_s"] = _THROUGHPUT[threads]
    if threads > 1 and 1 in _THROUGHPUT:
        benchmark.extra_info["speedup_vs_1_thread"] = _THROUGHPUT[threads] / _THROUGHPUT[1]
