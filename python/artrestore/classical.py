"""Classical restoration operations backed by the C++ core.

All functions take an H x W x 3 ``uint8`` (or ``float32`` in [0, 1]) RGB image and return a new
image of the same shape and dtype. ``sharpen_sigma`` is in pixels, ``sharpen_strength`` is the
multiple of the detail (image - Gaussian blur) added back, ``threshold`` is in 8-bit levels.

Colour correction is grey-world white balance (each channel scaled so its mean equals the mean
of the three channel means, gains limited to [1/3, 3]) followed by one contrast stretch shared
by all channels that maps the ``clip_percent`` / ``100 - clip_percent`` percentiles of the
balanced pixels to 0 / 255 (stretch factor at most 8).
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb


def unsharp_mask(image, sharpen_sigma: float = 1.0, sharpen_strength: float = 1.0, threshold: float = 0.0) -> np.ndarray:
    """``image + strength * (image - GaussianBlur(image, sigma))`` where the detail exceeds ``threshold``."""
    return _core.unsharp_mask(as_rgb(image), float(sharpen_sigma), float(sharpen_strength), float(threshold))


def estimate_color_transform(image, *, white_balance: bool = True, stretch: bool = True, clip_percent: float = 0.5):
    """Per-channel ``(gains, offsets)`` of the colour correction (offsets in the image's units)."""
    gains, offsets = _core.estimate_color_transform(as_rgb(image), white_balance, stretch, float(clip_percent))
    return np.asarray(gains, np.float32), np.asarray(offsets, np.float32)


def color_correct(image, *, white_balance: bool = True, stretch: bool = True, clip_percent: float = 0.5) -> np.ndarray:
    """Grey-world white balance + joint percentile contrast stretch."""
    image = as_rgb(image)
    gains, offsets = _core.estimate_color_transform(image, white_balance, stretch, float(clip_percent))
    return _core.apply_color_transform(image, gains, offsets)


def color_correct_sharpen(
    image,
    apply_color_correction: bool = True,
    sharpen_sigma: float = 1.0,
    sharpen_strength: float = 1.0,
    threshold: float = 0.0,
    *,
    white_balance: bool = True,
    stretch: bool = True,
    clip_percent: float = 0.5,
) -> np.ndarray:
    """The seed's "colour + sharpen" in one fused streaming pass of the core."""
    return _core.color_correct_sharpen(
        as_rgb(image), bool(apply_color_correction), float(sharpen_sigma), float(sharpen_strength),
        float(threshold), white_balance, stretch, float(clip_percent),
    )


# ---------------------------------------------------------------------------------------------
# The classical toolbox: the seed's 8 basic and 9 advanced techniques, one function each, every
# one RGB uint8 in and out with fixed, documented defaults. OpenCV does the work where it already
# does it well; the core does the hot ones (colour, unsharp mask).
# ---------------------------------------------------------------------------------------------

def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def gray_world_balance(image) -> np.ndarray:
    """Basic 1: scale each channel so its mean equals the grey mean (no stretch)."""
    return color_correct(image, white_balance=True, stretch=False)


def white_patch_balance(image, percentile: float = 99.0) -> np.ndarray:
    """Basic 2: scale each channel so its ``percentile`` becomes white (Retinex white patch)."""
    image = as_rgb(image)
    tops = np.maximum(np.percentile(image.reshape(-1, 3), percentile, axis=0), 1.0)
    return _u8(image * (255.0 / tops))


def contrast_stretch(image, clip_percent: float = 0.5) -> np.ndarray:
    """Basic 3: joint percentile stretch to the full range, no white balance."""
    return color_correct(image, white_balance=False, stretch=True, clip_percent=clip_percent)


def histogram_equalization(image) -> np.ndarray:
    """Basic 4: global histogram equalisation of luma (YCrCb), chroma kept."""
    ycc = cv2.cvtColor(as_rgb(image), cv2.COLOR_RGB2YCrCb)
    ycc[:, :, 0] = cv2.equalizeHist(ycc[:, :, 0])
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def clahe(image, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Basic 5: contrast-limited adaptive histogram equalisation of L in Lab."""
    lab = cv2.cvtColor(as_rgb(image), cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def gamma_correction(image) -> np.ndarray:
    """Basic 6: gamma chosen so mean luminance maps to 0.5 (gamma limited to [0.4, 2.5])."""
    image = as_rgb(image)
    mean = float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean()) / 255
    gamma = float(np.clip(np.log(0.5) / np.log(np.clip(mean, 1e-3, 0.999)), 0.4, 2.5))
    lut = _u8(255 * (np.arange(256) / 255.0) ** gamma)
    return cv2.LUT(image, lut)


def median_filter(image, size: int = 3) -> np.ndarray:
    """Basic 7: median filter (removes dust and salt-and-pepper noise)."""
    return cv2.medianBlur(as_rgb(image), size)


def bilateral_filter(image, diameter: int = 7, sigma_color: float = 40, sigma_space: float = 5) -> np.ndarray:
    """Basic 8: edge-preserving bilateral smoothing."""
    return cv2.bilateralFilter(as_rgb(image), diameter, sigma_color, sigma_space)


def non_local_means(image, strength: float = 7.0) -> np.ndarray:
    """Advanced 1: OpenCV's coloured non-local means denoising."""
    return cv2.fastNlMeansDenoisingColored(as_rgb(image), None, strength, strength, 7, 21)


def unsharp(image) -> np.ndarray:
    """Advanced 2: unsharp mask, sigma 1 px, strength 1 (the core)."""
    return unsharp_mask(image, 1.0, 1.0)


def wiener_deconvolution(image, blur_sigma: float = 1.5, noise_to_signal: float = 0.01) -> np.ndarray:
    """Advanced 3: Wiener deconvolution of an assumed Gaussian blur, in the Fourier domain."""
    image = as_rgb(image).astype(np.float32)
    h, w = image.shape[:2]
    # Mirror-pad so the periodic FFT sees no border jump.
    padded = np.pad(image, ((h // 4, h // 4), (w // 4, w // 4), (0, 0)), mode="reflect")
    ph, pw = padded.shape[:2]
    fy, fx = np.fft.fftfreq(ph)[:, None], np.fft.rfftfreq(pw)[None, :]
    otf = np.exp(-2 * (np.pi * blur_sigma) ** 2 * (fx**2 + fy**2))  # the Gaussian's transfer function
    gain = otf / (otf**2 + noise_to_signal)
    out = np.fft.irfft2(np.fft.rfft2(padded, axes=(0, 1)) * gain[..., None], s=(ph, pw), axes=(0, 1))
    return _u8(out[h // 4:h // 4 + h, w // 4:w // 4 + w])


def guided_filter(image, radius: int = 4, eps: float = 0.01) -> np.ndarray:
    """Advanced 4: self-guided filter (He et al. 2010), edge-preserving smoothing with box filters."""
    x = as_rgb(image).astype(np.float32) / 255
    box = lambda a: cv2.boxFilter(a, -1, (2 * radius + 1, 2 * radius + 1))
    mean = box(x)
    var = box(x * x) - mean * mean
    a = var / (var + eps)
    b = mean - a * mean
    return _u8(255 * (box(a) * x + box(b)))


def multiscale_retinex(image, sigmas=(15, 80, 250)) -> np.ndarray:
    """Advanced 5: multi-scale Retinex on luminance, rescaled to the 1-99 % range, chroma kept."""
    image = as_rgb(image)
    x = image.astype(np.float32) + 1
    lum = x.mean(axis=2)
    retinex = sum(np.log(lum) - np.log(cv2.GaussianBlur(lum, (0, 0), s)) for s in sigmas) / len(sigmas)
    lo, hi = np.percentile(retinex, (1, 99))
    target = np.clip((retinex - lo) / max(hi - lo, 1e-6), 0, 1) * 255 + 1
    return _u8(x * (target / lum)[..., None] - 1)


def scratch_inpainting(image, min_contrast: int = 40) -> np.ndarray:
    """Advanced 6: detect thin bright/dark lines (morphological top/black-hat) and inpaint (Telea)."""
    image = as_rgb(image)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    lines = np.maximum(cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel), cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel))
    mask = cv2.dilate((lines > min_contrast).astype(np.uint8), np.ones((3, 3), np.uint8))
    return cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)


def dehaze(image, omega: float = 0.8, patch: int = 15) -> np.ndarray:
    """Advanced 7: dark-channel-prior dehazing (He et al. 2009), removes fading veils."""
    x = as_rgb(image).astype(np.float32) / 255
    dark = cv2.erode(x.min(axis=2), np.ones((patch, patch), np.uint8))
    flat = dark.ravel()
    brightest = np.argsort(flat)[-max(1, flat.size // 1000):]
    airlight = x.reshape(-1, 3)[brightest].mean(axis=0)
    transmission = 1 - omega * cv2.erode((x / np.maximum(airlight, 1e-3)).min(axis=2), np.ones((patch, patch), np.uint8))
    transmission = cv2.GaussianBlur(transmission, (0, 0), patch / 3)
    return _u8(255 * ((x - airlight) / np.maximum(transmission, 0.2)[..., None] + airlight))


def denoise_sharpen(image) -> np.ndarray:
    """Advanced 8: non-local means, then unsharp mask (sigma 1, strength 0.8)."""
    return unsharp_mask(non_local_means(image), 1.0, 0.8)


def color_sharpen(image) -> np.ndarray:
    """Advanced 9: the seed's "colour + sharpen" with fixed defaults (the fused core call)."""
    return color_correct_sharpen(image, True, 1.0, 1.0)


BASIC_TECHNIQUES = {f.__name__: f for f in (
    gray_world_balance, white_patch_balance, contrast_stretch, histogram_equalization, clahe,
    gamma_correction, median_filter, bilateral_filter)}
ADVANCED_TECHNIQUES = {f.__name__: f for f in (
    non_local_means, unsharp, wiener_deconvolution, guided_filter, multiscale_retinex, scratch_inpainting,
    dehaze, denoise_sharpen, color_sharpen)}
TECHNIQUES = {**BASIC_TECHNIQUES, **ADVANCED_TECHNIQUES}
