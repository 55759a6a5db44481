"""The two Ray Data stages of ``artrestore.cluster``: plain classes, no Ray import.

Each stage takes a batch ``{"index", "src", "dst"}`` (NumPy arrays, one entry per image: the
plan's position and the store paths as ``os.fsencode`` bytes, so names that are not valid UTF-8
travel through Arrow) and returns the same columns plus ``row``, the image's summary row as JSON
(the row ``HybridRestorer.restore_file`` makes, with ``file`` and ``output`` in display form).

``RestoreStage`` (CPU, one ``HybridRestorer`` per actor) reads, analyses, routes and restores,
and writes the output atomically. With ``defer_unet`` it restores only images that need no U-Net
and hands the others on with status ``DEFERRED``, having written nothing for them;
``UNetStage`` (one GPU per actor, the U-Net in process) restores those and passes every other
row through untouched, so images on the classical paths are written before any U-Net runs.
"""
from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from artrestore.batch_files import left_reason
from artrestore.strategies import UNET_METHODS

PLAN_COLUMNS = ("index", "src", "dst")
DEFERRED = "needs_unet"  # internal status: analysed on a CPU worker, waiting for a U-Net actor
_BAD_INPUT = (OSError, ValueError)
log = logging.getLogger(__name__)


def _blank_row(file: str, output: str) -> dict:
    return {"file": file, "output": output, "method": None, "severity": None, "ms": None, "status": None,
            "error": None}


def _fail(row: dict, error: BaseException) -> dict:
    row.update(status="failed", error=f"{type(error).__name__}: {error}")
    return row


class _Stage:
    def __init__(self, source, target, strategy: str, restorer_options: dict, threads: int | None = None):
        import cv2

        from artrestore.restorer import HybridRestorer

        # An actor reserves ``threads`` CPUs (Ray's num_cpus): OpenCV's own pool would otherwise
        # start one thread per core in every actor, and k actors would fight over the same cores.
        if threads:
            cv2.setNumThreads(int(threads))

        self.source, self.target, self.strategy = source, target, strategy
        self.restorer = HybridRestorer(**restorer_options)

    def _restore_and_write(self, row: dict, source, dst: str, strategy: str, start: float) -> dict:
        from artrestore.imageio import output_pixels

        restored, info = self.restorer.restore(source.rgb, strategy)
        # As restore_file: the source file's alpha and grayscale go back into the output.
        self.target.write_image(dst, output_pixels(restored, source, os.path.splitext(dst)[1] or ".png"))
        row.update(method=info["method"], severity=info["severity"], ms=round(1e3 * (time.perf_counter() - start), 2),
                   status="restored", fallback=(info.get("fallback") or {}).get("reason"), reason=left_reason(strategy, info))
        return row

    def __call__(self, batch: dict) -> dict:
        previous = batch["row"] if "row" in batch else [None] * len(batch["src"])
        rows = [self.one(os.fsdecode(src), os.fsdecode(dst), row) for src, dst, row in zip(batch["src"], batch["dst"], previous)]
        # The plan's columns travel on so the U-Net stage knows what to read and write.
        return {**{key: np.asarray(batch[key]) for key in PLAN_COLUMNS},
                "row": np.array([json.dumps(r) for r in rows], dtype=object)}


class RestoreStage(_Stage):
    """CPU worker: read, analyse, route, restore, write; U-Net images deferred when ``defer_unet``."""

    def __init__(self, source, target, strategy: str, restorer_options: dict, defer_unet: bool,
                 threads: int | None = None):
        super().__init__(source, target, strategy, restorer_options, threads)
        self.defer_unet = defer_unet

    def one(self, src: str, dst: str, _previous) -> dict:
        from artrestore.errors import DeepLearningUnavailable
        from artrestore.strategies import STRATEGIES

        row = _blank_row(self.source.display(src), self.target.display(dst))
        start = time.perf_counter()
        try:
            source = self.source.load_image(src)
            image = source.rgb
            if self.defer_unet:
                forced = STRATEGIES[self.strategy]
                if forced in UNET_METHODS:
                    return {**row, "status": DEFERRED}
                if forced is None:
                    analysis = self.restorer.analyze(image)
                    if analysis["method"] == "deep_learning":
                        return {**row, "status": DEFERRED, "severity": analysis["severity"]}
            return self._restore_and_write(row, source, dst, self.strategy, start)
        except (*_BAD_INPUT, DeepLearningUnavailable) as error:
            return _fail(row, error)
        except Exception as error:  # a bug must not stop a million-image job: report it on the file
            log.exception("restoring %s failed", src)
            return _fail(row, error)


class UNetStage(_Stage):
    """GPU worker: the U-Net in process for ``DEFERRED`` rows; every other row passes through."""

    def one(self, src: str, dst: str, previous: str) -> dict:
        from artrestore.errors import DeepLearningUnavailable

        row = json.loads(previous)
        if row["status"] != DEFERRED:
            return row
        row = _blank_row(row["file"], row["output"])
        start = time.perf_counter()
        try:
            # The CPU worker routed it to the U-Net; restoring with the forced strategy gives the same
            # method, severity, fallback and pixels as ``auto`` does on one machine (a cascade asked for
            # runs whole here: its chain stage is milliseconds beside the network).
            from artrestore.strategies import STRATEGIES

            strategy = self.strategy if STRATEGIES[self.strategy] in UNET_METHODS else "deep_learning"
            return self._restore_and_write(row, self.source.load_image(src), dst, strategy, start)
        except (*_BAD_INPUT, DeepLearningUnavailable) as error:
            return _fail(row, error)
        except Exception as error:
            log.exception("restoring %s on the U-Net failed", src)
            return _fail(row, error)


__all__ = ["RestoreStage", "UNetStage", "DEFERRED", "PLAN_COLUMNS"]
