"""Concurrent restores through ``HybridRestorer(dl_backend="grpc://...")`` against the stand-in model
server: the restorer's lock guards only the backend's creation, so requests from several threads
reach the server together and its batching sees them. Throughput (restores per second) with 4
client threads vs 1, the same 8 severe 512 x 512 images per round, strategy ``dl``.

Run: pytest benchmarks/test_restorer_concurrency.py --benchmark-json=out/concurrency.json
The stand-in runs in this process so that its batch counter can be read: ``model_calls_per_round``
(extra_info) is how many batches the server ran for the 8 restores; fewer calls than requests means
requests arrived together and were batched (a restorer that serialised its U-Net calls would give
one call per request). The throughput ratio (``speedup_vs_1_thread``) depends on the cores the
server has to spare: where one batch already fills them, it stays near 1.
"""
import threading

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from artrestore.restorer import HybridRestorer
from artrestore.serving.export import export_for_serving
from artrestore.serving.standin import serve
from artrestore.training.synthesis import synthesize_damage

IMAGES = 8
_THROUGHPUT = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("srv")
    export_for_serving(None, base)
    grpc_server, port, registry = serve(base, port=0, max_batch=64, batch_timeout_ms=5)
    yield port, registry
    grpc_server.stop(grace=5).wait()
    registry.stop()


def _model_calls(registry) -> int:
    return sum(batcher.batches_run for versions in registry.models.values() for servable in versions.values()
               for batcher in servable.batchers.values())


@pytest.fixture(scope="module")
def severe(photo_at):
    return [synthesize_damage(np.roll(photo_at(512), 64 * k, axis=1), "severe", seed=k)[0] for k in range(IMAGES)]


@pytest.fixture(scope="module")
def restorer(server, severe):
    port, _ = server
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
def test_grpc_restores(benchmark, server, restorer, severe, threads):
    _, registry = server
    before = _model_calls(registry)
    benchmark.group = f"HybridRestorer grpc, {IMAGES} severe 512^2 images"
    benchmark.name = f"artrestore {threads} thread{'s' if threads > 1 else ''}"
    benchmark.pedantic(_restore_all, args=(restorer, severe, threads), rounds=2, iterations=1)
    _THROUGHPUT[threads] = IMAGES / benchmark.stats.stats.median
    benchmark.extra_info["restores_per_s"] = _THROUGHPUT[threads]
    benchmark.extra_info["requests_per_round"] = IMAGES  # one request per 512^2 image: 9 tiles <= 16 per request
    benchmark.extra_info["model_calls_per_round"] = (_model_calls(registry) - before) / 2
    if threads > 1 and 1 in _THROUGHPUT:
        benchmark.extra_info["speedup_vs_1_thread"] = _THROUGHPUT[threads] / _THROUGHPUT[1]
