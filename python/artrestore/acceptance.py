"""The check after the U-Net: keep its output, or fall back to the fast path (issue 16).

The learned decision routes an image from features of the *damaged* image alone; on damage it was
not fitted to it is as optimistic about the U-Net on light damage as on moderate damage. Once the
U-Net has run, what it *did* can be measured too: ``change_features(before, after)`` (15 numbers,
``CHANGE_FEATURE_NAMES``) describe the change on area-downscaled copies (longer side at most
``CHANGE_SIDE`` px, so the numbers do not depend on the image's size and cost about 2 ms): mean
absolute luma change, the mean shift of each channel and the largest, the luma contrast ratio,
the log ratio of high-frequency energy (after / before, luma minus a Gaussian of sigma 1.5 px),
the share of pixels whose luma moved by more than 8 levels, the mean saturation change, the
correlation of the luma change with the input's own high frequencies (removing noise and fine
marks makes it negative; repainting leaves it near 0), the low-frequency share of the change's energy (Gaussian of
sigma 4 px), the 99th percentile of the absolute change, and the shifts of the luma's median,
1st and 99th percentiles. Luma and channel values in [0, 1].

``Acceptance.predict(routing_vector, change_vector)`` is a random forest (plain arrays, evaluated
by the C++ core like the decision's) predicting the U-Net's PSNR gain over the fast path
(``ml_guided``) on this image, dB; ``accepts(...)`` keeps the U-Net when that exceeds the margin
chosen out of fold on training outcomes (``training.acceptance_fit``). Stored as
``acceptance.npz`` + ``model_metadata.json`` (SHA-256; no pickle, loading executes nothing).
"""
from __future__ import annotations

import json
import pathlib

import cv2
import numpy as np

from artrestore import _core
from artrestore._modelfile import load_arrays, model_folder, read_metadata, save_arrays
from artrestore._outcomes import OUTCOME_SIDE
from artrestore._resize import shrink_to
from artrestore._validate import as_rgb
from artrestore.analysis import ROUTING_FEATURE_NAMES
from artrestore.router import flatten_forest

__all__ = ["Acceptance", "change_features", "CHANGE_FEATURE_NAMES", "CHANGE_SIDE", "BUNDLED_ACCEPTANCE",
           "FALLBACK_PATH", "save_acceptance", "load_acceptance"]

BUNDLED_ACCEPTANCE = pathlib.Path(__file__).resolve().parent / "models" / "acceptance"
FORMAT = "artrestore-acceptance/1"
FALLBACK_PATH = "ml_guided"  # what runs instead of a U-Net output the check does not keep
CHANGE_SIDE = OUTCOME_SIDE  # px: the change is measured at the training outcomes' size
CHANGE_FEATURE_NAMES = ("mean_abs_luma", "shift_r", "shift_g", "shift_b", "max_shift", "contrast_ratio",
                        "hf_log_ratio", "changed_share", "saturation_change", "corr_hf", "lowfreq_share",
                        "p99_abs_luma", "median_shift", "p1_shift", "p99_shift")
CHANGED_LEVEL = 8 / 255  # a luma change above this is visible
_ARRAYS = {"feature": (np.int32, 1), "threshold": (np.float64, 1), "left": (np.int32, 1), "right": (np.int32, 1),
           "value": (np.float64, 2), "tree_roots": (np.int32, 1)}


def _saturation(rgb: np.ndarray) -> np.ndarray:
    """max - min over the channels (elementwise maxima: a reduction over an axis of 3 is slow)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)


def change_features(before, after) -> np.ndarray:
    """The 15 change features (``CHANGE_FEATURE_NAMES`` order, float64) of ``after`` against
    ``before`` (RGB uint8 of one shape, as the U-Net was given and returned them)."""
    before, after = as_rgb(before, name="before"), as_rgb(after, name="after")
    if before.shape != after.shape:
        raise ValueError(f"before and after must have one shape, got {before.shape} and {after.shape}")
    x = shrink_to(before, CHANGE_SIDE).astype(np.float32) / 255
    y = shrink_to(after, CHANGE_SIDE).astype(np.float32) / 255
    lx, ly = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.cvtColor(y, cv2.COLOR_RGB2GRAY)
    change, luma_change = y - x, ly - lx
    hx = lx - cv2.GaussianBlur(lx, (0, 0), 1.5)
    hy = ly - cv2.GaussianBlur(ly, (0, 0), 1.5)
    shift = change.reshape(-1, 3).mean(0)
    luma_energy = float((luma_change ** 2).mean())
    corr = float(np.corrcoef(luma_change.ravel(), hx.ravel())[0, 1]) if luma_change.std() > 0 and hx.std() > 0 else 0.0
    low = cv2.GaussianBlur(luma_change, (0, 0), 4)
    features = [np.abs(luma_change).mean(), *shift, np.abs(shift).max(), ly.std() / max(float(lx.std()), 1e-4),
                np.log((hy ** 2).mean() + 1e-8) - np.log((hx ** 2).mean() + 1e-8),
                (np.abs(luma_change) > CHANGED_LEVEL).mean(),
                (_saturation(y) - _saturation(x)).mean(), corr,
                (low ** 2).mean() / luma_energy if luma_energy > 0 else 0.0,
                np.percentile(np.abs(luma_change), 99), np.median(ly) - np.median(lx),
                np.percentile(ly, 1) - np.percentile(lx, 1), np.percentile(ly, 99) - np.percentile(lx, 99)]
    return np.asarray(features, np.float64)


class Acceptance:
    """The forest over routing + change features and the margin (dB) it must clear."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self.metadata = metadata
        self.margin_db = float(metadata["margin_db"])
        if not np.isfinite(self.margin_db):
            raise ValueError("acceptance: margin_db must be finite")
        if arrays["value"].shape != (arrays["feature"].shape[0], 1):
            raise ValueError("acceptance: forest values must be (n_nodes, 1)")
        self._forest = _core.Forest(arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"],
                                    arrays["value"], arrays["tree_roots"],
                                    len(ROUTING_FEATURE_NAMES) + len(CHANGE_FEATURE_NAMES))

    @classmethod
    def load(cls, path=None) -> "Acceptance":
        """Load an acceptance folder; None: the bundled one."""
        folder = model_folder(path, BUNDLED_ACCEPTANCE)
        metadata = read_metadata(folder, FORMAT, "acceptance")
        if metadata.get("feature_names") != [*ROUTING_FEATURE_NAMES, *CHANGE_FEATURE_NAMES]:
            raise ValueError("acceptance: model was trained on other features")
        arrays_path = folder / "acceptance.npz"
        arrays = load_arrays(arrays_path, _ARRAYS, "acceptance", metadata.get("arrays_sha256"))
        try:
            return cls(arrays, metadata)
        except (KeyError, TypeError) as error:
            raise ValueError(f"acceptance: metadata is missing or malformed: {error}") from None

    def predict(self, routing_vector, change_vector) -> float:
        """Predicted PSNR gain of the U-Net's output over the fast path's, dB."""
        x = np.concatenate([np.asarray(routing_vector, np.float32).ravel(),
                            np.asarray(change_vector, np.float32).ravel()])
        if x.size != len(ROUTING_FEATURE_NAMES) + len(CHANGE_FEATURE_NAMES):
            raise ValueError(f"acceptance: expected {len(ROUTING_FEATURE_NAMES)} routing and "
                             f"{len(CHANGE_FEATURE_NAMES)} change features, got {x.size} in all")
        return float(self._forest.predict(x.reshape(1, -1))[0, 0])

    def accepts(self, predicted_gain_db: float) -> bool:
        return predicted_gain_db > self.margin_db


def load_acceptance(path=None) -> Acceptance | None:
    """The acceptance check of ``path`` (None: the bundled one), or None when no model is there."""
    folder = model_folder(path, BUNDLED_ACCEPTANCE)
    if not (folder / "model_metadata.json").is_file():
        return None
    return Acceptance.load(folder)


def save_acceptance(folder, forest, metadata: dict) -> pathlib.Path:
    """Write a fitted scikit-learn forest regressor as ``acceptance.npz`` + ``model_metadata.json``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays_path = folder / "acceptance.npz"
    digest = save_arrays(arrays_path, flatten_forest(forest))
    metadata = {**metadata, "format": FORMAT, "feature_names": [*ROUTING_FEATURE_NAMES, *CHANGE_FEATURE_NAMES],
                "arrays_sha256": digest}
    (folder / "model_metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return folder
