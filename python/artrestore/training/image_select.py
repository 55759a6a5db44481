"""Which packaged images are photographs or paintings fit for restoration training, and where to crop.

Inputs are encoded image bytes (PNG, JPEG, WebP) or decoded arrays; every array here is uint8,
H x W x 3 (RGB) or H x W x 4 (RGBA). Outputs are plain numbers:

- ``decode_rgba``: bytes -> RGBA uint8 (16-bit images are scaled to 8 bits, grey is replicated,
  images without alpha get alpha 255).
- ``working_copy``: area-downscale so the short side is at most ``max_short_side`` pixels (large
  wallpapers are otherwise cropped into featureless 512 px patches of sky).
- ``measure``: ``ImageStats`` of the opaque pixels (alpha >= 250) of a working copy.
- ``reject_reason``: ``None`` to keep an image, else a short reason (``Criteria`` holds the limits).
- ``perceptual_hash``: a 64-bit DCT hash (pHash) that is the same for one picture at several sizes.
- ``choose_crops``: square windows (y, x) of side ``side`` with enough texture, chosen by a seeded
  generator, so a run is reproducible.

Gradients are Sobel magnitudes divided by 8, i.e. grey levels (0-255) per pixel.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "OPAQUE_ALPHA",
    "Criteria",
    "ImageStats",
    "choose_crops",
    "composite",
    "decode_rgba",
    "hamming",
    "measure",
    "perceptual_hash",
    "reject_reason",
    "working_copy",
]

OPAQUE_ALPHA = 250  # alpha at or above this counts as opaque (anti-aliased cut-out edges do not)


@dataclass(frozen=True)
class Criteria:
    """Limits that separate photographs and paintings from vector art, ramps, cut-outs and sky.

    Every limit is a measured property of the working copy (short side <= 1024 px), over opaque
    pixels only. The defaults were set by looking at the distributions over the default packages
    (see docs/image_collection.md).
    """

    min_short_side: int = 256        # source pixels; smaller images are icons and sprites
    min_opaque: float = 0.30         # fraction of opaque pixels; less is a cut-out on transparency
    min_colours: int = 4096          # distinct 24-bit colours; fewer is flat/posterised/vector art
    min_grey_levels: int = 160       # the same for greyscale images (256 levels at most)
    flat_grad: float = 0.5           # a pixel is flat when its gradient is below this
    max_flat: float = 0.45           # more flat pixels than this is vector art or a smooth ramp
    texture_grad: float = 4.0        # a pixel is textured when its gradient is at least this
    min_texture: float = 0.03        # fewer textured pixels than this: smooth ramps, fog, empty sky
    dark_luma: float = 24.0          # a pixel is dark below this luma (0-255)
    max_dark: float = 0.55           # mostly dark (night sky, astrophotographs of faint nebulae)
    crop_min_texture: float = 0.08   # a training crop needs at least this textured fraction
    crop_max_dark: float = 0.5       # ... and at most this dark fraction
    crop_min_opaque: float = 0.6     # ... and at least this opaque fraction (rest: flat background)

    def asdict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ImageStats:
    height: int                 # working copy, pixels
    width: int
    opaque_fraction: float
    colours: int                # distinct RGB colours among opaque pixels
    grey: bool                  # R = G = B (within 2 levels) on 99 % of opaque pixels
    flat_fraction: float
    texture_fraction: float
    dark_fraction: float

    def asdict(self) -> dict:
        return dataclasses.asdict(self)


def decode_rgba(data: bytes, name: str = "image") -> np.ndarray:
    """Decode PNG/JPEG/WebP bytes to RGBA uint8; ``ValueError`` naming ``name`` when it cannot."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{name}: not a decodable image")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"{name}: unsupported sample type {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGBA)
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGBA)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    raise ValueError(f"{name}: {image.shape[2]} channels are not supported")


def working_copy(rgba: np.ndarray, max_short_side: int) -> np.ndarray:
    """Area-downscale so that min(H, W) <= max_short_side; smaller images are returned as they are."""
    h, w = rgba.shape[:2]
    scale = max_short_side / min(h, w)
    if scale >= 1.0:
        return rgba
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)


def composite(rgba: np.ndarray) -> np.ndarray:
    """RGB over a flat background: the mean opaque colour at 60 % brightness (a plain dark ground).

    Cut-out paintings (character portraits) keep their painted part; crops are later required to be
    mostly opaque, so the flat ground never dominates.
    """
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32)
    opaque = rgba[:, :, 3] >= OPAQUE_ALPHA
    ground = (rgb[opaque].mean(axis=0) if opaque.any() else np.full(3, 128.0)) * 0.6
    out = rgb * alpha + ground * (1.0 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of luma in grey levels per pixel (float32, H x W)."""
    luma = _luma(rgb)
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return cv2.magnitude(gx, gy)


def measure(rgba: np.ndarray, criteria: Criteria = Criteria()) -> ImageStats:
    """Content statistics of a working copy's opaque pixels (see ``Criteria`` for the limits)."""
    rgb = rgba[:, :, :3]
    # An opaque pixel next to transparency has a meaningless gradient; erode the mask by one pixel.
    opaque = rgba[:, :, 3] >= OPAQUE_ALPHA
    inner = cv2.erode(opaque.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    n_opaque = int(opaque.sum())
    if n_opaque == 0 or not inner.any():
        return ImageStats(rgba.shape[0], rgba.shape[1], n_opaque / opaque.size, 0, True, 1.0, 0.0, 1.0)
    pixels = rgb[opaque].astype(np.int32)
    colours = int(np.unique((pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]).size)
    spread = pixels.max(axis=1) - pixels.min(axis=1)
    grey = bool(np.mean(spread <= 2) >= 0.99)
    grad = gradient_magnitude(rgb)[inner]
    luma = _luma(rgb)[opaque]
    return ImageStats(
        height=rgba.shape[0], width=rgba.shape[1],
        opaque_fraction=n_opaque / opaque.size,
        colours=colours, grey=grey,
        flat_fraction=float(np.mean(grad < criteria.flat_grad)),
        texture_fraction=float(np.mean(grad >= criteria.texture_grad)),
        dark_fraction=float(np.mean(luma < criteria.dark_luma)),
    )


def reject_reason(stats: ImageStats, criteria: Criteria = Criteria()) -> str | None:
    """``None`` when the image looks like a photograph or painting, else why not (first rule hit)."""
    if stats.opaque_fraction < criteria.min_opaque:
        return f"cut-out: {stats.opaque_fraction:.2f} opaque < {criteria.min_opaque}"
    if stats.grey and stats.colours < criteria.min_grey_levels:
        return f"few grey levels: {stats.colours} < {criteria.min_grey_levels}"
    if not stats.grey and stats.colours < criteria.min_colours:
        return f"few colours: {stats.colours} < {criteria.min_colours}"
    if stats.flat_fraction > criteria.max_flat:
        return f"flat: {stats.flat_fraction:.2f} of pixels flat > {criteria.max_flat}"
    if stats.dark_fraction > criteria.max_dark:
        return f"dark: {stats.dark_fraction:.2f} of pixels dark > {criteria.max_dark}"
    if stats.texture_fraction < criteria.min_texture:
        return f"little texture: {stats.texture_fraction:.2f} textured < {criteria.min_texture}"
    return None


def perceptual_hash(rgb: np.ndarray) -> int:
    """64-bit pHash: signs of the 8 x 8 lowest DCT frequencies (DC left out) of a 32 x 32 grey copy.

    The aspect ratio is ignored, so the same picture at several sizes hashes (nearly) the same.
    """
    small = cv2.resize(_luma(rgb), (32, 32), interpolation=cv2.INTER_AREA)
    coeffs = cv2.dct(small)[:8, :8].flatten()[1:]
    bits = coeffs > np.median(coeffs)
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _window_means(mask: np.ndarray, side: int, stride: int) -> np.ndarray:
    """Mean of ``mask`` over every side x side window on a stride grid (rows, cols of window starts)."""
    integral = cv2.integral(mask.astype(np.float64))
    ys = np.arange(0, mask.shape[0] - side + 1, stride)
    xs = np.arange(0, mask.shape[1] - side + 1, stride)
    y0, x0 = np.meshgrid(ys, xs, indexing="ij")
    total = integral[y0 + side, x0 + side] - integral[y0, x0 + side] - integral[y0 + side, x0] + integral[y0, x0]
    return total / float(side * side), ys, xs


def choose_crops(rgba: np.ndarray, side: int, count: int, rng: np.random.Generator,
                 criteria: Criteria = Criteria()) -> list[tuple[int, int]]:
    """Up to ``count`` windows (y, x) of side ``side`` that are textured, not dark, mostly opaque.

    Candidates lie on a grid of stride side/4; chosen ones overlap by at most a quarter of their
    area. Returns fewer (possibly none) where the image does not have enough good windows.
    """
    h, w = rgba.shape[:2]
    if min(h, w) < side:
        return []
    stride = max(1, side // 4)
    rgb = rgba[:, :, :3]
    grad = gradient_magnitude(rgb)
    texture, ys, xs = _window_means(grad >= criteria.texture_grad, side, stride)
    dark, _, _ = _window_means(_luma(rgb) < criteria.dark_luma, side, stride)
    opaque, _, _ = _window_means(rgba[:, :, 3] >= OPAQUE_ALPHA, side, stride)
    good = ((texture >= criteria.crop_min_texture) & (dark <= criteria.crop_max_dark)
            & (opaque >= criteria.crop_min_opaque))
    candidates = [(int(ys[i]), int(xs[j])) for i, j in zip(*np.nonzero(good))]
    chosen: list[tuple[int, int]] = []
    for k in rng.permutation(len(candidates)):
        y, x = candidates[k]
        if all(max(0, side - abs(y - cy)) * max(0, side - abs(x - cx)) <= side * side // 4
               for cy, cx in chosen):
            chosen.append((y, x))
            if len(chosen) == count:
                break
    return sorted(chosen)
