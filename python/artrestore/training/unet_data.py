"""The U-Net's training data: damaged/clean pairs synthesized from clean RGB uint8 images
(``make_pairs``, in worker processes), and random augmented TILE x TILE crops of them as float32
[0, 1] batches (``random_batch``), fed to Keras by worker threads (``crop_dataset``).
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from artrestore.dl.arch import import_keras
from artrestore.dl.contract import CONTEXT_KEY, INPUT_KEY, TILE
from artrestore.training.synthesis import SEVERITIES, synthesize_damage

__all__ = ["make_pairs", "random_batch", "crop_dataset"]


def _synthesize_one(args):
    clean, severity, seed = args
    return synthesize_damage(clean, severity, seed)[0]


def make_pairs(cleans: list[np.ndarray], variants: int, weights, seed: int, workers: int = 0):
    """Damaged/clean pairs: ``variants`` synthesized versions of every clean image."""
    rng = np.random.default_rng(seed)
    jobs, owners, severities = [], [], []
    for i, clean in enumerate(cleans):
        for k in range(variants):
            severity = SEVERITIES[rng.choice(3, p=np.asarray(weights) / np.sum(weights))]
            jobs.append((clean, severity, seed * 100000 + i * 1000 + k))
            owners.append(i)
            severities.append(severity)
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        damaged = list(pool.map(_synthesize_one, jobs, chunksize=8))
    return damaged, owners, severities


def _augment(damaged: np.ndarray, clean: np.ndarray, context: np.ndarray | None, rng: np.random.Generator):
    # The thumbnail turns and flips with its tile, so it stays the thumbnail of the turned image.
    k = int(rng.integers(4))
    flip = rng.random() < 0.5
    # Colour jitter applied to both, so the mapping to learn stays the same.
    gain = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    bias = np.float32(rng.uniform(-0.04, 0.04))

    def apply(a):
        a = np.rot90(a, k)
        return (a[:, ::-1] if flip else a) * gain + bias

    return apply(damaged), apply(clean), None if context is None else apply(context)


def random_batch(damaged, cleans, owners, batch_size, rng, tile=TILE, contexts=None):
    """One batch of random augmented crops: float32 [0, 1] (x, y), where x is the tiles or, when
    ``contexts`` (one thumbnail per damaged image) is given, {"image": tiles, "context": thumbnails}."""
    xs, ys, cs = [], [], []
    for _ in range(batch_size):
        j = int(rng.integers(len(damaged)))
        d, c = damaged[j], cleans[owners[j]]
        y0 = int(rng.integers(d.shape[0] - tile + 1))
        x0 = int(rng.integers(d.shape[1] - tile + 1))
        x, y, ctx = _augment(d[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255,
                             c[y0:y0 + tile, x0:x0 + tile].astype(np.float32) / 255,
                             None if contexts is None else contexts[j], rng)
        xs.append(x)
        ys.append(y)
        cs.append(ctx)
    if contexts is None:
        return np.stack(xs), np.stack(ys)
    return {INPUT_KEY: np.stack(xs), CONTEXT_KEY: np.stack(cs)}, np.stack(ys)


def crop_dataset(damaged, cleans, owners, batch_size, steps, seed, workers=8, contexts=None):
    """A keras PyDataset of random crops, built by worker threads ahead of the accelerator (one
    Python thread cannot feed a GPU). Batch ``i`` of epoch ``e`` is seeded by (seed, e, i)."""
    keras = import_keras()

    class Crops(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4 * workers)
            self.epoch = 0

        def __len__(self):
            return steps

        def __getitem__(self, index):
            rng = np.random.default_rng([seed, self.epoch, index])
            return random_batch(damaged, cleans, owners, batch_size, rng, contexts=contexts)

        def on_epoch_end(self):
            self.epoch += 1

    return Crops()
