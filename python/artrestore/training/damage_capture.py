"""Capture damage of the broad model: film grain, blur, down-and-up resampling, sensor noise, JPEG.

Same contract as :mod:`damage_tone` (``x`` float32 H x W x 3 levels 0-255, a :class:`Draw`,
``scale``). Blur sizes are in pixels at a 512 px short side (``size`` is the Gaussian sigma, the
defocus disc radius / 1.5 and the motion length / 2.5); noise ``sigma`` is the standard deviation
in levels (for ``shot``: at mid grey, 128).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.training.damage_draw import Draw

__all__ = ["grain", "blur", "resample", "noise", "jpeg"]

_INTERPOLATION = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                  "lanczos": cv2.INTER_LANCZOS4, "nearest": cv2.INTER_NEAREST}


def grain(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Film grain: blurred noise of ``size_px`` clumps, strongest in the midtones; mono or per channel."""
    h, w = x.shape[:2]
    strength, size = d.uniform("strength"), d.uniform("size_px") * scale
    channels = 1 if d.record["family"] == "mono" else 3
    base = d.rng.standard_normal((h, w, channels), dtype=np.float32)
    if channels == 3:  # dye clouds of the three layers are partly correlated
        rho = d.uniform("correlation")
        base = rho * base[..., :1] + np.sqrt(1 - rho * rho) * base
    clumps = cv2.GaussianBlur(base, (0, 0), size).reshape(h, w, channels)
    clumps *= strength / max(float(clumps[::3, ::3].std()), 1e-6)  # a subsample's spread is spread enough
    luma = np.clip(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) * np.float32(1 / 255.0), 0, 1)
    weight = 0.3 + 2.8 * luma * (1 - luma)  # 0.3 + 0.7 * (4 l (1 - l)): strongest in the midtones
    clumps *= weight[..., None]
    x += clumps
    return x


def _kernel(d: Draw, family: str, size: float) -> np.ndarray | None:
    """The normalised 2-D kernel of ``anisotropic``, ``defocus`` and ``motion`` blur."""
    if family == "anisotropic":
        aspect, angle = d.uniform("aspect"), np.deg2rad(d.uniform("angle"))
        radius = int(np.ceil(3 * size)) + 1
        ys, xs = np.mgrid[-radius:radius + 1, -radius:radius + 1].astype(np.float32)
        u = xs * np.cos(angle) + ys * np.sin(angle)
        v = -xs * np.sin(angle) + ys * np.cos(angle)
        kernel = np.exp(-0.5 * ((u / size) ** 2 + (v / max(size * aspect, 0.3)) ** 2))
    elif family == "defocus":
        radius = 1.5 * size
        r = int(np.ceil(radius)) + 1
        canvas = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        cv2.circle(canvas, (r * 16, r * 16), int(radius * 16), 255, -1, cv2.LINE_AA, 4)
        kernel = canvas.astype(np.float32)
    else:  # motion: a short straight path (a slight shake), anti-aliased
        length, angle = 2.5 * size, np.deg2rad(d.uniform("angle"))
        r = int(np.ceil(length / 2)) + 1
        canvas = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
        a = (int(round((r - dx) * 16)), int(round((r - dy) * 16)))
        b = (int(round((r + dx) * 16)), int(round((r + dy) * 16)))
        cv2.line(canvas, a, b, 255, 1, cv2.LINE_AA, 4)
        kernel = canvas.astype(np.float32)
    return (kernel / kernel.sum()).astype(np.float32)


def blur(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Isotropic or anisotropic Gaussian, a defocus disc, or slight linear motion."""
    family = d.record["family"]
    size = d.uniform("size") * scale
    if family == "gaussian":
        return cv2.GaussianBlur(x, (0, 0), size, borderType=cv2.BORDER_REFLECT)
    return cv2.filter2D(x, -1, _kernel(d, family, size), borderType=cv2.BORDER_REFLECT)


def resample(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """A small print scanned: shrink by ``factor`` and enlarge back (family: down_up interpolations)."""
    h, w = x.shape[:2]
    factor = d.uniform("factor")
    down, up = (_INTERPOLATION[n] for n in d.record["family"].split("_"))
    small = cv2.resize(x, (max(2, round(w * factor)), max(2, round(h * factor))), interpolation=down)
    return cv2.resize(small, (w, h), interpolation=up)


def noise(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Sensor noise: Gaussian per channel, shot (Poisson-like), luma only, or blotchy colour noise."""
    h, w = x.shape[:2]
    family, sigma = d.record["family"], d.uniform("sigma")
    if family == "shot":
        # Photon (Poisson) noise in its Gaussian form, variance proportional to the level: as
        # accurate as Poisson sampling at these photon counts and a sixth of its cost.
        spread = np.sqrt(np.clip(x, 0, 255) * np.float32(sigma * sigma / 128.0))
        spread *= d.rng.standard_normal(x.shape, dtype=np.float32)
        x += spread
        return x
    if family == "luma":
        return x + sigma * d.rng.standard_normal((h, w, 1), dtype=np.float32)
    if family == "chroma":
        size = d.uniform("chroma_px") * scale
        blotches = cv2.GaussianBlur(d.rng.standard_normal((h, w, 3), dtype=np.float32), (0, 0), size)
        blotches *= 1.0 / max(float(blotches[::3, ::3].std()), 1e-6)
        return x + sigma * (0.8 * blotches + 0.4 * d.rng.standard_normal((h, w, 1), dtype=np.float32))
    samples = d.rng.standard_normal((h, w, 3), dtype=np.float32)
    samples *= sigma
    x += samples
    return x


def _jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode the image")
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]


def jpeg(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """JPEG compression once, or twice at two qualities (an image saved, edited and saved again)."""
    image = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    image = _jpeg_round_trip(image, d.integer("quality"))
    if d.record["family"] == "twice":
        image = _jpeg_round_trip(image, d.integer("quality", into=d.detail()))
    return image.astype(np.float32)
