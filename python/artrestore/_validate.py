"""Input checks shared by every stage; no compiled code, so the U-Net trainer can use it anywhere."""
from __future__ import annotations

import numpy as np


def as_rgb(image, *, name: str = "image") -> np.ndarray:
    """Return ``image`` as a C-contiguous H x W x 3 uint8 or float32 array, or raise.

    Grayscale is replicated to three channels, alpha is dropped, float64 becomes float32 and
    strided views are copied; everything else (other dtypes, shapes, empty or 1-pixel images,
    NaN/inf) raises ``TypeError`` or ``ValueError`` naming the problem.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.dtype == np.float64:
        # Checked before the cast, which would silently turn values beyond float32 into infinity.
        if image.size and not np.isfinite(image).all():
            raise ValueError(f"{name}: float image contains NaN or infinity")
        if image.size and np.abs(image).max() > np.finfo(np.float32).max:
            raise ValueError(f"{name}: float64 values beyond the float32 range (float images are 0-1)")
        image = image.astype(np.float32)
    if image.dtype not in (np.uint8, np.float32):
        raise TypeError(f"{name}: dtype must be uint8 (0-255) or float32 (0-1), got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"{name}: expected H x W x 3 (or H x W grayscale), got shape {image.shape}")
    channels = image.shape[2]
    if channels == 1:
        image = np.repeat(image, 3, axis=2)
    elif channels == 4:
        image = image[:, :, :3]
    elif channels != 3:
        raise ValueError(f"{name}: expected 1, 3 or 4 channels, got {channels} (shape {image.shape})")
    height, width = image.shape[:2]
    if height < 2 or width < 2:
        raise ValueError(f"{name}: image is {height}x{width} pixels; at least 2x2 is needed")
    if image.dtype == np.float32 and not np.isfinite(image).all():
        raise ValueError(f"{name}: float image contains NaN or infinity")
    return np.ascontiguousarray(image)


def non_negative(value, name: str) -> float:
    """``value`` as a float if it is a finite number >= 0, else ``ValueError`` naming ``name``: the
    check of every strength, sensitivity and tolerance (0 is "off")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}") from None
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return number


def damage_arguments(severity, seed, severities) -> None:
    """Raise ``ValueError`` for a ``severity`` outside ``severities`` and ``TypeError`` for a seed
    that is not an integer (a bool is not one): the damage generators' shared argument check."""
    if severity not in severities:
        raise ValueError(f"severity must be one of {tuple(severities)}, got {severity!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")


def damage_input(clean, severity, seed, severities) -> np.ndarray:
    """The damage generators' shared input check: ``damage_arguments``, then ``clean`` as uint8 H x W x 3
    RGB (``as_rgb``; a float image in [0, 1] through ``to_uint8``)."""
    damage_arguments(severity, seed, severities)
    clean = as_rgb(clean, name="clean")
    return clean if clean.dtype == np.uint8 else to_uint8(clean)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float image in [0, 1] -> uint8 0-255, rounded to nearest and clipped."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
