"""dl.batching: concurrent model calls merged into batches, with a fake model function (no TensorFlow)."""
import threading
import time

import numpy as np
import pytest

from artrestore.dl.batching import Batcher


class FakeModel:
    """Doubles its input; records the batch sizes it was called with. ``gate`` holds calls back."""

    def __init__(self, gate=None):
        self.sizes, self.gate = [], gate

    def __call__(self, inputs):
        if self.gate is not None:
            self.gate.wait(timeout=5)
        x = inputs["image"]
        self.sizes.append(len(x))
        if "context" in inputs:
            assert len(inputs["context"]) == len(x)
        return 2 * x


def _request(k, n, shape=(4, 4, 3)):
    return {"image": np.full((n, *shape), k, np.float32)}


def test_single_request_passes_through():
    model = FakeModel()
    batcher = Batcher(model, max_batch=8, timeout_ms=1)
    try:
        out = batcher.submit(_request(3, 2))
        np.testing.assert_array_equal(out, np.full((2, 4, 4, 3), 6, np.float32))
        assert model.sizes == [2] and batcher.batches_run == 1
    finally:
        batcher.stop()


def test_concurrent_requests_share_batches_and_each_gets_its_own_rows():
    gate = threading.Event()
    model = FakeModel(gate)
    batcher = Batcher(model, max_batch=64, timeout_ms=200)
    results = {}

    def call(k):
        results[k] = batcher.submit(_request(k, k))  # request k has k rows, all equal to k

    threads = [threading.Thread(target=call, args=(k,)) for k in range(1, 7)]
    try:
        [t.start() for t in threads]
        gate.set()
        [t.join(timeout=10) for t in threads]
        assert sorted(results) == list(range(1, 7))
        for k, out in results.items():
            np.testing.assert_array_equal(out, np.full((k, 4, 4, 3), 2 * k, np.float32))
        assert sum(model.sizes) == 21
        assert len(model.sizes) < 6, "concurrent requests were never batched together"
        assert max(model.sizes) <= 64
    finally:
        batcher.stop()


def test_batches_never_exceed_max_batch():
    model = FakeModel()
    batcher = Batcher(model, max_batch=5, timeout_ms=50)
    threads = [threading.Thread(target=batcher.submit, args=(_request(k, 3),)) for k in range(6)]
    try:
        [t.start() for t in threads]
        [t.join(timeout=10) for t in threads]
        assert sum(model.sizes) == 18 and max(model.sizes) <= 5
    finally:
        batcher.stop()


def test_other_shapes_run_on_their_own():
    model = FakeModel()
    batcher = Batcher(model, max_batch=64, timeout_ms=100)
    out = {}
    threads = [threading.Thread(target=lambda: out.__setitem__("a", batcher.submit(_request(1, 2)))),
               threading.Thread(target=lambda: out.__setitem__("b", batcher.submit(_request(2, 3, (8, 8, 3)))))]
    try:
        [t.start() for t in threads]
        [t.join(timeout=10) for t in threads]
        assert out["a"].shape == (2, 4, 4, 3) and out["b"].shape == (3, 8, 8, 3)
        np.testing.assert_array_equal(out["b"], 4)
    finally:
        batcher.stop()


def test_model_error_reaches_every_caller_and_the_batcher_goes_on():
    calls = []

    def flaky(inputs):
        calls.append(len(inputs["image"]))
        if len(calls) == 1:
            raise ValueError("H, W must be multiples of 16")
        return inputs["image"] + 1

    batcher = Batcher(flaky, max_batch=8, timeout_ms=1)
    try:
        with pytest.raises(ValueError, match="multiples of 16"):
            batcher.submit(_request(0, 1))
        np.testing.assert_array_equal(batcher.submit(_request(0, 1)), 1)
    finally:
        batcher.stop()


def test_stop_ends_the_worker_threads():
    batcher = Batcher(FakeModel(), max_batch=8, timeout_ms=1)
    batcher.stop()
    assert not any(thread.is_alive() for thread in batcher.threads)


def test_several_batch_threads_run_batches_at_once():
    # num_batch_threads: with 3 threads, 3 slow batches overlap instead of queuing behind each other.
    running, peak, lock = [0], [0], threading.Lock()

    def slow(batch):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return batch["x"] * 2

    batcher = Batcher(slow, max_batch=1, timeout_ms=0, threads=3)
    results = [None] * 3
    workers = [threading.Thread(target=lambda k=k: results.__setitem__(k, batcher.submit({"x": np.full((1, 2), k)})))
               for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    batcher.stop()
    assert peak[0] == 3
    assert [r.tolist() for r in results] == [[[2 * k, 2 * k]] for k in range(3)]
