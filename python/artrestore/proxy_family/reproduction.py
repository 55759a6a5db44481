"""How the aged object was reproduced: a print screen, smearing optics, rescanning small, speckle
noise, posterisation and JPEG.

Each function takes ``x`` (float32 H x W x 3, RGB levels 0-255), the strength ``s`` in [0, 1], a
NumPy generator and ``scale`` (short side / 512), and returns ``(x, params)``.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["screen", "smear", "rescan", "speckle", "posterize", "jpeg", "EFFECTS"]


def _r(v) -> float:
    return round(float(v), 4)


def screen(x, s, rng, scale):
    """A printed reproduction's screen: a fine periodic modulation of the brightness."""
    h, w = x.shape[:2]
    period = rng.uniform(3.0, 7.0) * max(scale, 0.5)
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (np.cos(angle) * xx + np.sin(angle) * yy) * (2 * np.pi / period)
    v = (-np.sin(angle) * xx + np.cos(angle) * yy) * (2 * np.pi / period)
    dots = np.cos(u) * np.cos(v)
    depth = 0.12 * s
    return x * (1.0 + depth * dots[:, :, None]), {"period_px": _r(period), "angle": _r(angle), "depth": _r(depth)}


def smear(x, s, rng, scale):
    """Soft optics or a smeared copy: a box, median or waxy (bilateral) filter."""
    kind = str(rng.choice(["box", "median", "waxy"]))
    u8 = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if kind == "box":
        k = 1 + 2 * max(1, int(round((0.5 + 2.5 * s) * scale)))
        out = cv2.blur(u8, (k, k))
        size = k
    elif kind == "median":
        size = 3 if s < 0.5 else 5
        out = cv2.medianBlur(u8, size)
    else:
        size = max(3, int(round((3 + 6 * s) * scale)) | 1)
        out = cv2.bilateralFilter(u8, size, 20 + 60 * s, size)
    return out.astype(np.float32), {"filter": kind, "size": int(size)}


def rescan(x, s, rng, scale):
    """Copied small and enlarged again (nearest or area down; nearest or linear up)."""
    h, w = x.shape[:2]
    factor = 1.0 - rng.uniform(0.3, 0.7) * s
    down = [cv2.INTER_NEAREST, cv2.INTER_AREA][int(rng.integers(2))]
    up = [cv2.INTER_NEAREST, cv2.INTER_LINEAR][int(rng.integers(2))]
    small = cv2.resize(x, (max(8, int(w * factor)), max(8, int(h * factor))), interpolation=down)
    return cv2.resize(small, (w, h), interpolation=up), {"factor": _r(factor), "down": down, "up": up}


def speckle(x, s, rng, scale):
    """Signal-dependent grainy noise (multiplicative, slightly clumped) or salt and pepper."""
    h, w = x.shape[:2]
    if rng.random() < 0.8:
        sigma = 0.18 * s
        noise = rng.standard_normal((h, w, 3)).astype(np.float32)
        clump = rng.uniform(0.0, 1.0) * max(scale, 0.5)
        if clump > 0.3:
            noise = cv2.GaussianBlur(noise, (0, 0), clump) * (1.0 + clump)
        mono = rng.random() < 0.5
        if mono:
            noise[:] = noise[:, :, :1]
        return x * (1.0 + sigma * noise), {"kind": "multiplicative", "sigma": _r(sigma), "clump": _r(clump),
                                           "mono": bool(mono)}
    share = 0.004 * s
    hits = rng.random((h, w)) < share
    out = x.copy()
    out[hits] = np.where(rng.random(int(hits.sum())) < 0.5, 0.0, 255.0)[:, None]
    return out, {"kind": "salt_pepper", "share": _r(share)}


def posterize(x, s, rng, scale):
    """Too few levels (an early digital copy): quantised to 2^bits levels per channel."""
    bits = int(7 - round(2 * s))
    step = 256.0 / (1 << bits)
    return np.floor(np.clip(x, 0, 255) / step) * step + step / 2.0, {"bits": bits}


def jpeg(x, s, rng, scale):
    """JPEG at a quality falling with the strength."""
    quality = int(np.clip(95 - 80 * s + rng.uniform(-5, 5), 5, 98))
    u8 = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    out = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out.astype(np.float32), {"quality": quality}


EFFECTS = {"screen": screen, "smear": smear, "rescan": rescan, "speckle": speckle, "posterize": posterize,
           "jpeg": jpeg}
