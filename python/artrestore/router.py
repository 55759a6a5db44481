"""The router: 14 damage features in, restoration parameters and a method out.

``Router.predict(features)`` maps the feature vector (``FEATURE_NAMES`` order) to
``RestorationParams`` (``apply_color_correction`` bool, ``sharpen_sigma`` in pixels 0.5-2.0,
``sharpen_strength`` 0.5-2.5) with a random forest evaluated by the C++ core (about 10 us).
``DecisionEngine.decide(features)`` gives the severity (``light`` / ``moderate`` / ``severe``) and
method (``classical`` / ``ml_guided`` / ``deep_learning``).

A router is stored as ``router.npz`` (plain arrays: the fitted trees and the feature scaler,
read with ``allow_pickle=False``) beside ``model_metadata.json`` (schema, SHA-256 of the arrays,
training data, cross-validated scores, decision thresholds). Loading checks the hash and every
array's dtype, shape and index range, so a tampered or foreign file raises ``ValueError`` and no
code from a file is ever executed.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import asdict, dataclass, field

import numpy as np

from artrestore import _core
from artrestore._modelfile import load_arrays, model_folder, read_metadata, save_arrays
from artrestore.analysis import FEATURE_NAMES

BUNDLED_ROUTER = pathlib.Path(__file__).resolve().parent / "models" / "router"
FORMAT = "artrestore-router/1"
OUTPUTS = ("apply_color_correction", "sharpen_sigma", "sharpen_strength")
SIGMA_RANGE = (0.5, 2.0)
STRENGTH_RANGE = (0.5, 2.5)
_ARRAYS = {  # name -> (dtype, ndim)
    "feature": (np.int32, 1), "threshold": (np.float64, 1), "left": (np.int32, 1), "right": (np.int32, 1),
    "value": (np.float64, 2), "tree_roots": (np.int32, 1), "scaler_mean": (np.float64, 1),
    "scaler_scale": (np.float64, 1),
}


@dataclass(frozen=True)
class RestorationParams:
    apply_color_correction: bool = True
    sharpen_sigma: float = 1.0
    sharpen_strength: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)


# The seed's fixed "colour + sharpen", used by the classical method and when no router is loaded.
DEFAULT_PARAMS = RestorationParams()


@dataclass(frozen=True)
class Thresholds:
    """The seed's decision rule: severe if sharpening_need > severe_sharpening_need or
    high_freq_energy < severe_high_freq_energy; moderate if sharpening_need >
    moderate_sharpening_need; light otherwise."""
    severe_sharpening_need: float = 0.7
    severe_high_freq_energy: float = 0.1
    moderate_sharpening_need: float = 0.4


METHOD_FOR_SEVERITY = {"light": "classical", "moderate": "ml_guided", "severe": "deep_learning"}


@dataclass
class DecisionEngine:
    thresholds: Thresholds = field(default_factory=Thresholds)

    def severity(self, features: dict) -> str:
        t = self.thresholds
        need, high = features["sharpening_need"], features["high_freq_energy"]
        if need > t.severe_sharpening_need or high < t.severe_high_freq_energy:
            return "severe"
        if need > t.moderate_sharpening_need:
            return "moderate"
        return "light"

    def decide(self, features: dict) -> tuple[str, str]:
        """(severity, method) for a features dict as returned by ``artrestore.analyze``."""
        severity = self.severity(features)
        return severity, METHOD_FOR_SEVERITY[severity]


class Router:
    """A fitted forest + scaler, loaded from plain arrays and evaluated by the core."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self.metadata = metadata
        self._mean = arrays["scaler_mean"]
        self._scale = arrays["scaler_scale"]
        n_features = len(FEATURE_NAMES)
        if self._mean.shape != (n_features,) or self._scale.shape != (n_features,) or not np.all(self._scale > 0):
            raise ValueError("router: scaler arrays do not match the 14 features")
        if arrays["value"].shape != (arrays["feature"].shape[0], len(OUTPUTS)):
            raise ValueError("router: value array must be (n_nodes, 3)")
        self._forest = _core.Forest(arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"],
                                    arrays["value"], arrays["tree_roots"], n_features)
        decision = metadata.get("decision", {})
        self.thresholds = Thresholds(**decision["thresholds"]) if "thresholds" in decision else Thresholds()
        # For a U-Net served from a GPU (calibrated with its time discounted); this machine's otherwise.
        accelerated = decision.get("accelerated", {}).get("thresholds")
        self.accelerated_thresholds = Thresholds(**accelerated) if accelerated else self.thresholds

    @classmethod
    def load(cls, path=None) -> "Router":
        """Load a router folder (``router.npz`` + ``model_metadata.json``); None: the bundled one."""
        folder = model_folder(path, BUNDLED_ROUTER)
        arrays_path = folder / "router.npz"
        metadata = read_metadata(folder, FORMAT, "router")
        if metadata.get("feature_names") != list(FEATURE_NAMES) or metadata.get("outputs") != list(OUTPUTS):
            raise ValueError("router: model was trained on other features or outputs")
        return cls(load_arrays(arrays_path, _ARRAYS, "router", metadata.get("arrays_sha256")), metadata)

    @property
    def n_trees(self) -> int:
        return self._forest.n_trees

    def predict_raw(self, features: np.ndarray) -> np.ndarray:
        """Unclipped forest outputs for an (n, 14) or (14,) feature array, as scikit-learn gives them."""
        x = np.asarray(features, np.float64)
        single = x.ndim == 1
        x = ((x.reshape(-1, len(FEATURE_NAMES)) - self._mean) / self._scale).astype(np.float32)
        out = self._forest.predict(x)
        return out[0] if single else out

    def predict(self, features: np.ndarray) -> RestorationParams:
        colour, sigma, strength = self.predict_raw(features)
        return RestorationParams(
            apply_color_correction=bool(colour >= 0.5),
            sharpen_sigma=float(np.clip(sigma, *SIGMA_RANGE)),
            sharpen_strength=float(np.clip(strength, *STRENGTH_RANGE)),
        )


def flatten_forest(forest, normalise_leaves: bool = False) -> dict[str, np.ndarray]:
    """Flatten a fitted scikit-learn forest (regressor or classifier) into the plain arrays
    ``_core.Forest`` evaluates: feature, threshold, left, right (global node indices, -1 at
    leaves), value (n_nodes x n_outputs) and tree_roots. ``normalise_leaves``: divide each node's
    values by their sum (a classifier's class counts become probabilities, so the mean over trees
    is ``predict_proba``)."""
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
    offset = 0
    for estimator in forest.estimators_:
        tree = estimator.tree_
        leaf = tree.children_left < 0
        roots.append(offset)
        features.append(np.where(leaf, 0, tree.feature).astype(np.int32))
        thresholds.append(tree.threshold.astype(np.float64))
        lefts.append(np.where(leaf, -1, tree.children_left + offset).astype(np.int32))
        rights.append(np.where(leaf, -1, tree.children_right + offset).astype(np.int32))
        value = (tree.value[:, 0, :] if normalise_leaves else tree.value[:, :, 0]).astype(np.float64)
        if normalise_leaves:
            value = value / np.maximum(value.sum(axis=1, keepdims=True), 1e-300)
        values.append(value)
        offset += tree.node_count
    return {"feature": np.concatenate(features), "threshold": np.concatenate(thresholds),
            "left": np.concatenate(lefts), "right": np.concatenate(rights), "value": np.concatenate(values),
            "tree_roots": np.asarray(roots, np.int32)}


def export_forest(forest, scaler) -> dict[str, np.ndarray]:
    """Flatten a fitted scikit-learn RandomForestRegressor and StandardScaler into plain arrays."""
    return {**flatten_forest(forest), "scaler_mean": scaler.mean_.astype(np.float64),
            "scaler_scale": scaler.scale_.astype(np.float64)}


def save_router(folder, arrays: dict[str, np.ndarray], metadata: dict) -> pathlib.Path:
    """Write ``router.npz`` and ``model_metadata.json`` (with the arrays' SHA-256) into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays_path = folder / "router.npz"
    # np.savez stamps zip entries with a fixed date, so equal arrays give equal bytes.
    digest = save_arrays(arrays_path, {k: arrays[k] for k in _ARRAYS})
    metadata = {**metadata, "format": FORMAT, "feature_names": list(FEATURE_NAMES), "outputs": list(OUTPUTS),
                "arrays_sha256": digest}
    (folder / "model_metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return folder
