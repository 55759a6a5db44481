"""Check-family capture effects: box-stack, ring-bokeh and shake-path blur; pyramid or exact-linear
rescaling; Poisson-Gaussian and banded noise; JPEG with chroma subsampling variants or WebP.

Same contract as :mod:`colour` (float32 RGB in [0, 1], a :class:`Knob`, ``unit``).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.check_family.levels import Knob

__all__ = ["blur", "downscale", "noise", "compression"]

_SAMPLING = {"jpeg444": 0x111111, "jpeg422": 0x211111, "jpeg420": 0x221111}


def _shake_kernel(rng: np.random.Generator, length: float) -> np.ndarray:
    """A curved camera-shake trajectory (a smoothed random walk), rasterised with anti-aliasing."""
    steps = 32
    heading = float(rng.uniform(0, 2 * np.pi)) + np.cumsum(rng.normal(0, 0.25, steps))
    path = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], 1), axis=0) * (length / steps)
    path -= path.mean(axis=0)
    r = int(np.ceil(np.abs(path).max())) + 2
    canvas = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    cv2.polylines(canvas, [np.int32(np.rint((path + r) * 8))], False, 255, 1, cv2.LINE_AA, 3)
    return canvas.astype(np.float32)


def blur(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Repeated box filters (toward a Gaussian), a ring-shaped bokeh, or a curved shake path."""
    radius = knob["radius"] * unit
    if knob.variant == "box_stack":
        passes = int(knob.rng.integers(2, 4))
        knob.record["passes"] = passes
        # `passes` odd boxes of width k have a standard deviation sqrt(passes * (k*k - 1) / 12) ~ radius
        # (odd: an even box would shift the image by half a pixel).
        size = 2 * int(round((np.sqrt(12 * radius * radius / passes + 1) - 1) / 2)) + 1
        for _ in range(passes):
            img = cv2.blur(img, (size, size), borderType=cv2.BORDER_REPLICATE)
        return img
    if knob.variant == "ring_bokeh":
        outer = max(1.0, radius * 1.2)
        r = int(np.ceil(outer)) + 1
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
        dist = np.sqrt(xx * xx + yy * yy)
        kernel = np.clip(outer + 0.5 - dist, 0, 1) * (0.35 + 0.65 * np.clip(dist / outer, 0, 1))
    else:
        kernel = _shake_kernel(knob.rng, max(1.5, 2.5 * radius))
    kernel = (kernel / kernel.sum()).astype(np.float32)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def downscale(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Shrink to ``shrink`` of the size and back: Gaussian pyramid + area down and bicubic up, or exact bilinear."""
    h, w = img.shape[:2]
    shrink = knob["shrink"]
    if knob.variant == "pyramid":  # halvings by the Gaussian pyramid, the rest by area, back up bicubic
        levels = int(np.floor(-np.log2(max(shrink, 1e-3))))
        knob.record["levels"] = levels
        small = img
        for _ in range(levels):
            if min(small.shape[:2]) < 8:
                break
            small = cv2.pyrDown(small)
        size = (max(2, int(w * shrink)), max(2, int(h * shrink)))
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(img, (max(2, int(w * shrink)), max(2, int(h * shrink))), interpolation=cv2.INTER_LINEAR_EXACT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR_EXACT)


def noise(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Photon counting (Poisson) plus Gaussian read noise; ``banded`` adds per-row and per-column offsets."""
    photons, read = knob["photons"], knob["read_noise"]
    counts = knob.rng.poisson(np.clip(img, 0, 1).astype(np.float64) * photons)
    out = (counts / photons).astype(np.float32) + read * knob.rng.standard_normal(img.shape).astype(np.float32)
    if knob.variant == "banded":
        h, w = img.shape[:2]
        band = knob["banding"]
        out += band * knob.rng.standard_normal((h, 1, 1)).astype(np.float32)
        out += 0.4 * band * knob.rng.standard_normal((1, w, 1)).astype(np.float32)
    return out


def compression(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Lossy coding at ``quality``: JPEG with 4:4:4, 4:2:2 or 4:2:0 chroma, or WebP."""
    bgr = np.clip(np.rint(img[:, :, ::-1] * 255), 0, 255).astype(np.uint8)
    quality = max(1, knob["quality"])
    if knob.variant == "webp":
        ok, data = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, quality])
    else:
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality,
                                              cv2.IMWRITE_JPEG_SAMPLING_FACTOR, _SAMPLING[knob.variant]])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode ({knob.variant})")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255
