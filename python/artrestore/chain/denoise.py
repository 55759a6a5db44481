"""Blind noise estimation and edge-preserving denoising.

``estimate_noise(image)``: the standard deviation of additive noise of the luma, in 8-bit levels
(a 2-D array is taken as the luma), by the block method: the residual energy of 16 x 16 blocks,
its 20 % quantile (the flattest blocks, where texture adds nothing), for two residuals - Immerkaer's
(1996) Laplacian difference (finest scale, zero on flat and linear regions) and the image minus its
Gaussian blur (sigma 1.5 px: noise that JPEG or grain moved to lower frequencies) - the larger
estimate wins.

``denoise(image, strength, method)``: RGB uint8 in, RGB uint8 out. The filter's strength follows the
estimate, soft-thresholded (``sigma = strength * max(estimate_noise - tolerance, 0)``, tolerance
2.5 levels), so clean images, whose texture reads as a few levels of noise, are left alone; and it
fades out between ``ceiling`` (10 levels) and 1.5 x it, where the estimate is texture (a painting's
brush strokes), not noise. Luma is filtered edge-preservingly; chroma, where the eye
sees little detail and most of the noise of scans and film sits, is smoothed more. Methods:

- ``bilateral`` (default, chosen by measurement, see docs/chain.md): bilateral filter of the luma,
  range sigma ``2 * sigma``, plus a Gaussian of the chroma;
- ``median``: 3x3 (or 5x5 when sigma > 12) median of the luma, Gaussian of the chroma;
- ``nlm``: OpenCV non-local means of the luma (h = sigma) - the best and slowest;
- ``gaussian``: Gaussian of luma and chroma (the reference the others should beat).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore._validate import as_rgb, non_negative, to_uint8

METHODS = ("bilateral", "median", "nlm", "gaussian")
NOISE_TOLERANCE = 2.5  # levels of estimated noise that texture and clean film grain account for
# Estimates above this are mostly texture (brush strokes, foliage): JPEG-compressed damage rarely
# reads above ~6 levels, a painting's impasto reads 13-20. The filter fades out to zero at 1.5 x it.
NOISE_CEILING = 10.0

# Immerkaer's kernel: two Laplacians whose difference cancels the image's own curvature.
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def _coarse_factor(sigma: float = 1.5, radius: int = 12) -> float:
    """Variance of (delta - Gaussian) per unit white-noise variance: 1 - 2 g(0) + sum g^2."""
    x = np.arange(-radius, radius + 1)
    g1 = np.exp(-x**2 / (2 * sigma**2))
    g = np.outer(g1, g1) / g1.sum() ** 2
    return float(1 - 2 * g[radius, radius] + (g**2).sum())


_COARSE_FACTOR = _coarse_factor()


def estimate_noise(image, block: int = 16, quantile: float = 0.2) -> float:
    """Additive noise sigma of the luma in 8-bit levels (see the module docstring)."""
    if image.ndim == 3:
        image = as_rgb(image)
        gray = cv2.cvtColor(image if image.dtype == np.uint8 else to_uint8(image), cv2.COLOR_RGB2GRAY)
    else:
        gray = image
    gray = gray.astype(np.float32)
    h, w = gray.shape
    if min(h, w) < 3:
        return 0.0
    fine = cv2.filter2D(gray, -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT)
    # Immerkaer's response has variance 36 sigma^2 for white noise; the coarse residual (image minus
    # its Gaussian blur, sigma 1.5 px) keeps noise that JPEG and film grain move to lower
    # frequencies, with variance ~0.9 sigma^2 (computed for white noise).
    coarse = gray - cv2.GaussianBlur(gray, (0, 0), 1.5)
    bh, bw = max(1, h // block), max(1, w // block)
    estimates = []
    for residual, variance_factor in ((fine, 36.0), (coarse, _COARSE_FACTOR)):
        energy = cv2.resize(residual[: bh * block, : bw * block] ** 2, (bw, bh), interpolation=cv2.INTER_AREA)
        # The flattest blocks hold noise alone; texture and edges only add to the others.
        estimates.append(np.sqrt(np.quantile(energy, quantile) / variance_factor))
    return float(max(estimates))


def denoise(image, strength: float = 1.0, method: str = "bilateral", *, noise_sigma: float | None = None,
            chroma_sigma: float = 1.5, tolerance: float = NOISE_TOLERANCE,
            ceiling: float = NOISE_CEILING) -> np.ndarray:
    """Edge-preserving denoising at ``strength`` x (estimated noise - ``tolerance``) (0: unchanged)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    non_negative(strength, "strength")
    image = as_rgb(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    estimate = estimate_noise(image) if noise_sigma is None else float(noise_sigma)
    # Soft threshold: the flattest blocks of a clean, textured image still give an estimate of a
    # few levels, which must not turn into smoothing.
    fade = float(np.clip((1.5 * ceiling - estimate) / (0.5 * ceiling), 0.0, 1.0)) if ceiling > 0 else 1.0
    sigma = strength * max(estimate - tolerance, 0.0) * fade
    if sigma < 0.5:
        return image.copy()
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    luma = ycc[:, :, 0]
    if method == "bilateral":
        luma = cv2.bilateralFilter(luma, 5, 2.0 * sigma, 2.0)
    elif method == "median":
        luma = cv2.medianBlur(luma, 5 if sigma > 12 else 3)
    elif method == "nlm":
        luma = cv2.fastNlMeansDenoising(luma, None, float(sigma), 5, 13)
    else:
        luma = cv2.GaussianBlur(luma, (0, 0), min(0.35 * sigma ** 0.5, 1.5))
    ycc[:, :, 0] = luma
    # Chroma noise is where the decibels are cheap: the eye and PSNR lose little fine colour detail.
    spread = chroma_sigma * min(1.0, sigma / 6.0)
    if spread >= 0.3:
        ycc[:, :, 1:] = cv2.GaussianBlur(ycc[:, :, 1:], (0, 0), spread)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


__all__ = ["estimate_noise", "denoise", "METHODS", "NOISE_TOLERANCE", "NOISE_CEILING"]
