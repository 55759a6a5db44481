"""Image quality metrics: RGB uint8 H x W x 3 pairs in, a float out.

``psnr`` in dB over all channels (data range 255; inf for identical images). ``ssim`` is the
Gaussian-window SSIM of Wang et al. (2004) (sigma 1.5, K1 0.01, K2 0.03) averaged over channels,
the same definition as scikit-image's ``structural_similarity(..., gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255)``, computed with OpenCV filters for speed.
"""
from __future__ import annotations

import cv2
import numpy as np


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    _check_pair(a, b)
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    _check_pair(a, b)
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    # scikit-image truncates its Gaussian at 3.5 sigma: an 11 x 11 window, reflected borders cropped.
    blur = lambda img: cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = 5
    return float(s[pad:-pad, pad:-pad].mean()) if min(s.shape[:2]) > 2 * pad else float(s.mean())
