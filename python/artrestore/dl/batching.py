"""Batching of concurrent model calls, independent of TensorFlow: concurrent ``submit`` calls (each
{input name: N x ... array}, one N for all inputs) are concatenated into one call of a model
function, and each caller gets its own rows of the output back. Used server-side by the stand-in
model server (as TF Serving batches) and in process by ``dl.UNetRestorer`` (images restored by
concurrent threads share one GPU pass when their shapes agree).
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Job", "Batcher"]


@dataclass
class Job:
    inputs: dict  # input name -> N x ... float32, all with the same N
    done: threading.Event
    result: np.ndarray | None = None
    error: Exception | None = None

    @property
    def size(self) -> int:
        return len(next(iter(self.inputs.values())))

    @property
    def shapes(self) -> dict:
        return {key: value.shape[1:] for key, value in self.inputs.items()}


class Batcher:
    """Collects concurrent requests for one servable into batches of at most ``max_batch`` tiles
    (waiting at most ``timeout_ms`` for company), runs them once, hands each caller its slice.

    ``run``: {input name: N x ... float32} -> N x ... array (any callable; the stand-in passes a
    SavedModel signature). Requests whose per-item shapes differ from the batch's run on their own;
    an exception from ``run`` is raised in every caller of that batch. ``batches_run`` counts calls."""

    def __init__(self, run, max_batch: int, timeout_ms: float, threads: int = 1):
        self.run, self.max_batch, self.timeout_s = run, max_batch, timeout_ms / 1000.0
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.batches_run = 0
        self._count_lock = threading.Lock()
        # Like TF Serving's num_batch_threads: this many batches may form and run at once.
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(max(1, threads))]
        for thread in self.threads:
            thread.start()

    def submit(self, inputs: dict) -> np.ndarray:
        job = Job(inputs, threading.Event())
        self.jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def stop(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            first = self.jobs.get()
            if first is None:
                return
            group, size = [first], first.size
            deadline = time.monotonic() + self.timeout_s
            while size < self.max_batch:
                try:
                    job = self.jobs.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    self.jobs.put(None)
                    break
                if job.shapes != first.shapes or size + job.size > self.max_batch:
                    self._execute([job])  # another shape (or too big to join): run it on its own
                    continue
                group.append(job)
                size += job.size
            self._execute(group)

    def _execute(self, group) -> None:
        try:
            # One caller: its inputs as they are (no copy; they may already be on a device).
            out = self.run(group[0].inputs if len(group) == 1 else
                           {key: np.concatenate([j.inputs[key] for j in group]) for key in group[0].inputs})
            with self._count_lock:
                self.batches_run += 1
            start = 0
            for job in group:
                job.result = out[start:start + job.size]
                start += job.size
        except Exception as error:  # reported to every caller of the batch
            for job in group:
                job.error = error
        for job in group:
            job.done.set()
