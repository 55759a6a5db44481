"""Holding back part of the U-Net's change: its global colour change, or all of it.

The shipped U-Net is over-confident: on clean images it shifts channels by up to 22 levels
(correcting a fading that is not there) and removes detail that light damage left intact (issue
15). Two holds take back part of what it did, both after any backend, in the restorer:

- ``hold_colour``: undoes ``1 - keep`` of its *global* colour change (the per-channel affine map
  that best explains output from input, fitted by least squares on area-averaged thumbnails, so
  local repairs barely move it), keeping the local restoration;
- ``hold_change``: keeps ``keep`` of its whole change (``before + keep x (after - before)``).

Inputs: ``before`` (the image given to the U-Net) and ``after`` (its output), H x W x 3 uint8 RGB of
one shape; ``keep`` in [0, 1] (1: the output unchanged). Output: H x W x 3 uint8. The shares are a
property of a trained model: chosen per severity class on the training family's validation split
(``training.unet_hold``) and recorded in the model's metadata ({class: share} under
``COLOUR_KEEP_KEY`` and ``CHANGE_KEEP_KEY``); ``keep_for`` turns the decision's severity
probabilities into one share per image. A self-ensemble (``dl.ensemble``) changes the output, so
it has shares of its own, chosen the same way: the keys with ``_x8`` (``shares_key``).
"""
from __future__ import annotations

import numpy as np

from artrestore._resize import shrink_to

__all__ = ["hold_colour", "hold_change", "global_colour_change", "keep_for", "read_shares", "shares_key",
           "COLOUR_KEEP_KEY", "CHANGE_KEEP_KEY", "THUMBNAIL_SIDE"]

COLOUR_KEEP_KEY = "colour_keep"  # in model_metadata.json: share of the global colour change kept, per class
CHANGE_KEEP_KEY = "change_keep"  # in model_metadata.json: share of the whole change kept, per class
THUMBNAIL_SIDE = 128  # px, longer side of the thumbnails the affine map is fitted on


def _thumbnail(image: np.ndarray) -> np.ndarray:
    return shrink_to(image, THUMBNAIL_SIDE).reshape(-1, 3).astype(np.float64)


def global_colour_change(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gain, offset), 3 each: per channel, ``after ~ gain * before + offset`` in the least-squares
    sense on thumbnails (levels 0-255). A flat channel (no spread to fit a gain) gets gain 1."""
    x, y = _thumbnail(before), _thumbnail(after)
    x_mean, y_mean, spread = x.mean(axis=0), y.mean(axis=0), x.var(axis=0)
    covariance = ((x - x_mean) * (y - y_mean)).mean(axis=0)
    gain = np.where(spread > 1e-6, covariance / np.maximum(spread, 1e-6), 1.0)
    return gain, y_mean - gain * x_mean


def shares_key(key: str, views: int = 1) -> str:
    """The metadata key of hold ``key`` for the U-Net averaged over ``views`` views (1: one pass)."""
    return key if views == 1 else f"{key}_x{views}"


def read_shares(model_dir=None, views: int = 1) -> dict[str, dict[str, float]]:
    """{COLOUR_KEEP_KEY: {class: share}, CHANGE_KEEP_KEY: {class: share}} from a U-Net folder's
    metadata (None: the bundled U-Net), for its output averaged over ``views`` views; a key the
    model does not record is empty (everything kept). A self-ensemble whose model records no
    shares of its own (no ``shares_key(., views)`` at all) uses the one-pass shares: the nearest
    choice there is. A malformed entry is refused by name."""
    from artrestore._modelfile import model_folder, read_metadata
    from artrestore.dl.contract import BUNDLED_UNET, FORMAT

    metadata = read_metadata(model_folder(model_dir, BUNDLED_UNET), FORMAT, "U-Net")
    keys = (COLOUR_KEEP_KEY, CHANGE_KEEP_KEY)
    if not any(shares_key(key, views) in metadata for key in keys):
        views = 1
    shares = {}
    for key in keys:
        entry = metadata.get(shares_key(key, views), {})
        if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
                for k, v in entry.items()):
            raise ValueError(f"U-Net metadata: {key} must map severity classes to shares in [0, 1], got {entry!r}")
        shares[key] = {k: float(v) for k, v in entry.items()}
    return shares


def keep_for(severity_probability: dict, keep_by_class: dict) -> float:
    """The share kept for one image: ``keep_by_class`` ({class: share}) weighted by the decision's
    severity probabilities ({class: probability}); classes without a share keep everything (1.0)."""
    total = sum(max(0.0, float(p)) for p in severity_probability.values())
    if total <= 0:
        return 1.0
    share = sum(max(0.0, float(p)) * float(keep_by_class.get(c, 1.0)) for c, p in severity_probability.items())
    return min(1.0, max(0.0, share / total))


def _check(name: str, before: np.ndarray, after: np.ndarray, keep: float) -> None:
    if before.shape != after.shape or before.ndim != 3 or before.shape[2] != 3:
        raise ValueError(f"{name}: expected two H x W x 3 images of one shape, got {before.shape} and {after.shape}")
    if before.dtype != np.uint8 or after.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8 images, got {before.dtype} and {after.dtype}")
    if not 0.0 <= keep <= 1.0:
        raise ValueError(f"{name}: keep must be in [0, 1], got {keep}")


def hold_change(before: np.ndarray, after: np.ndarray, keep: float) -> np.ndarray:
    """``before + keep x (after - before)``, rounded to uint8."""
    _check("hold_change", before, after, keep)
    if keep == 1.0:
        return after
    blended = before.astype(np.float32) + np.float32(keep) * (after.astype(np.float32) - before)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def hold_colour(before: np.ndarray, after: np.ndarray, keep: float) -> np.ndarray:
    """``after`` with ``1 - keep`` of its global colour change (``global_colour_change``) undone."""
    _check("hold_colour", before, after, keep)
    if keep == 1.0:
        return after
    gain, offset = global_colour_change(before, after)
    # The change the affine map makes to the input, per pixel: (gain - 1) * before + offset.
    back = (1.0 - keep) * ((gain - 1.0).astype(np.float32) * before + offset.astype(np.float32))
    return np.clip(np.rint(after.astype(np.float32) - back), 0, 255).astype(np.uint8)
