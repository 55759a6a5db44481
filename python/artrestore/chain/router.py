"""The chain's router: an image's features in, the chain's parameters out (the ``ml_guided`` path).

Three random forests on the same standardised features:

- the *setting forest* predicts, for each setting of a fixed bank of chain settings (``configs``,
  one row per setting, columns ``PARAM_NAMES``), the PSNR gain in dB that setting would give over
  the untouched input;
- the *colour forest* predicts the image's colour map: per channel, the clean values that levels
  64 and 192 of the damaged image should become (an affine map per channel, learned from training
  damage), applied by the colour stage in place of the blind estimate;
- the *strength forest* predicts the gain of that map at each of ``colour_strengths`` (0 included:
  a clean image's own colours are left alone).

``predict`` takes the bank's best setting, or its best colour-free setting plus the learned colour
map at the best strength, whichever is predicted to gain more - when that beats the predicted gain
of the bank's ``default_setting`` (the classical path's) by more than ``min_gain_db``; otherwise
the default, or the identity setting (every stage off) where even the default is predicted to lose.

Input features: the 14 FFT damage features (``artrestore.analyze``) followed by
``CHAIN_FEATURE_NAMES`` (``chain.features``). Stored as ``chain_router.npz`` (plain arrays: the
forest, the feature scaler, the bank) beside ``model_metadata.json`` (format, names, SHA-256 of the
arrays, training record); loading checks the hash, dtypes and shapes and never executes code.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import fields, replace

import numpy as np

from artrestore import _core
from artrestore._modelfile import load_arrays, model_folder, read_metadata, save_arrays
from artrestore.analysis import FEATURE_NAMES
from artrestore.chain.chain import ChainParams
from artrestore.chain.features import CHAIN_FEATURE_NAMES

BUNDLED_CHAIN_ROUTER = pathlib.Path(__file__).resolve().parents[1] / "models" / "chain_router"
FORMAT = "artrestore-chain-router/1"
INPUT_NAMES: tuple[str, ...] = (*FEATURE_NAMES, *CHAIN_FEATURE_NAMES)
PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ChainParams))
_ARRAYS = {  # name -> (dtype, ndim)
    "feature": (np.int32, 1), "threshold": (np.float64, 1), "left": (np.int32, 1), "right": (np.int32, 1),
    "value": (np.float64, 2), "tree_roots": (np.int32, 1), "scaler_mean": (np.float64, 1),
    "scaler_scale": (np.float64, 1), "configs": (np.float64, 2),
    "colour_feature": (np.int32, 1), "colour_threshold": (np.float64, 1), "colour_left": (np.int32, 1),
    "colour_right": (np.int32, 1), "colour_value": (np.float64, 2), "colour_tree_roots": (np.int32, 1),
    "strength_feature": (np.int32, 1), "strength_threshold": (np.float64, 1), "strength_left": (np.int32, 1),
    "strength_right": (np.int32, 1), "strength_value": (np.float64, 2), "strength_tree_roots": (np.int32, 1),
    "colour_strengths": (np.float64, 1),
}
ANCHORS = (64.0, 192.0)  # levels the colour forest predicts the clean values of
GAIN_RANGE = (0.25, 4.0)


class ChainRouter:
    """A fitted forest (features -> predicted gain of each bank setting), evaluated by the core."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self.metadata = metadata
        n_inputs = len(INPUT_NAMES)
        self._mean, self._scale = arrays["scaler_mean"], arrays["scaler_scale"]
        if self._mean.shape != (n_inputs,) or self._scale.shape != (n_inputs,) or not np.all(self._scale > 0):
            raise ValueError(f"chain router: scaler arrays do not match the {n_inputs} input features")
        configs = arrays["configs"]
        names = tuple(metadata.get("param_names", PARAM_NAMES))
        if configs.ndim != 2 or configs.shape[1] != len(names) or not np.all(np.isfinite(configs)):
            raise ValueError("chain router: configs must be a finite (n_settings, n_params) array")
        if arrays["value"].shape != (arrays["feature"].shape[0], configs.shape[0]):
            raise ValueError("chain router: value array must be (n_nodes, n_settings)")
        # Parameters added to ChainParams after a router was fitted take their field defaults, which
        # are the chain as it ran before they existed (``_known_params``).
        self.configs = [ChainParams(**dict(zip(names, map(float, row)))).validated() for row in configs]
        identity = [i for i, c in enumerate(self.configs) if _is_identity(c)]
        if not identity:
            raise ValueError("chain router: the bank must hold the identity setting (every stage off)")
        self._identity = identity[0]
        self._colour_off = np.array([c.colour_strength == 0 for c in self.configs])
        self._default = int(metadata.get("default_setting", self._identity))
        if not 0 <= self._default < len(self.configs):
            raise ValueError("chain router: default_setting is not a bank index")
        self.min_gain_db = float(metadata.get("min_gain_db", 0.0))
        self.colour_strengths = arrays["colour_strengths"]
        if not (np.all(self.colour_strengths >= 0) and np.all(self.colour_strengths <= 1)):
            raise ValueError("chain router: colour strengths must be in [0, 1]")
        if arrays["colour_value"].shape != (arrays["colour_feature"].shape[0], 2 * 3):
            raise ValueError("chain router: colour_value must be (n_nodes, 6)")
        if arrays["strength_value"].shape != (arrays["strength_feature"].shape[0], len(self.colour_strengths)):
            raise ValueError("chain router: strength_value must be (n_nodes, n_colour_strengths)")
        self._colour, self._strength = (
            _core.Forest(*(arrays[f"{p}{k}"] for k in ("feature", "threshold", "left", "right", "value", "tree_roots")),
                         n_inputs) for p in ("colour_", "strength_"))
        self._forest = _core.Forest(arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"],
                                    arrays["value"], arrays["tree_roots"], n_inputs)

    @classmethod
    def load(cls, path=None) -> "ChainRouter":
        """Load a folder (``chain_router.npz`` + ``model_metadata.json``); None: the bundled one."""
        folder = model_folder(path, BUNDLED_CHAIN_ROUTER)
        arrays_path = folder / "chain_router.npz"
        metadata = read_metadata(folder, FORMAT, "chain router")
        if metadata.get("input_names") != list(INPUT_NAMES) or not _known_params(metadata.get("param_names")):
            raise ValueError("chain router: model was trained on other features or parameters")
        return cls(load_arrays(arrays_path, _ARRAYS, "chain router", metadata.get("arrays_sha256")), metadata)

    def _standardise(self, inputs: np.ndarray) -> tuple[np.ndarray, bool]:
        x = np.asarray(inputs, np.float64)
        return ((x.reshape(-1, len(INPUT_NAMES)) - self._mean) / self._scale).astype(np.float32), x.ndim == 1

    def predict_gains(self, inputs: np.ndarray) -> np.ndarray:
        """Predicted gain (dB) of every bank setting for an (n, n_inputs) or (n_inputs,) array."""
        x, single = self._standardise(inputs)
        out = self._forest.predict(x)
        return out[0] if single else out

    def predict_colour_map(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gains, offsets) per channel of the learned colour map for one (n_inputs,) feature vector."""
        x, _ = self._standardise(inputs)
        anchors = self._colour.predict(x)[0]
        return map_from_anchors(anchors)

    def predict_colour_strength(self, inputs: np.ndarray) -> tuple[float, float]:
        """(colour strength with the largest predicted gain, that gain in dB) for one feature vector."""
        x, _ = self._standardise(inputs)
        gains = self._strength.predict(x)[0]
        best = int(np.argmax(gains))
        return float(self.colour_strengths[best]), float(gains[best])

    def predict(self, inputs: np.ndarray) -> tuple[ChainParams, float, tuple[np.ndarray, np.ndarray] | None]:
        """(setting, predicted gain in dB, colour map or None) for ``run_chain(image, setting,
        colour_map=...)``: see the module docstring; the same rule as training's ``chain_fit.choose``."""
        gains = self.predict_gains(inputs)
        strength, colour_gain = self.predict_colour_strength(inputs)
        free = np.where(self._colour_off, gains, -np.inf)
        best, best_free = int(np.argmax(gains)), int(np.argmax(free))
        learned_gain = max(float(free[best_free]), 0.0) + max(colour_gain, 0.0)
        default_gain = float(gains[self._default])
        if max(learned_gain, float(gains[best])) <= max(default_gain, 0.0) + self.min_gain_db:
            fallback = self._default if default_gain > 0 else self._identity
            return self.configs[fallback], max(default_gain, 0.0), None
        if learned_gain > gains[best]:
            params = replace(self.configs[best_free], colour_strength=strength)
            return params, learned_gain, self.predict_colour_map(inputs)
        return self.configs[best], float(gains[best]), None


def map_from_anchors(anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) per channel from the clean values predicted at ``ANCHORS`` (r, g, b at the
    low anchor, then at the high one); gains clipped to ``GAIN_RANGE``."""
    anchors = np.asarray(anchors, np.float64)
    lo, hi = anchors[:3], anchors[3:]
    gains = np.clip((hi - lo) / (ANCHORS[1] - ANCHORS[0]), *GAIN_RANGE)
    return gains, lo - gains * ANCHORS[0]


def _known_params(names) -> bool:
    """Whether a router's ``param_names`` are ``PARAM_NAMES`` or a prefix of them (fitted before
    the later parameters were added to ``ChainParams``)."""
    return isinstance(names, list) and 0 < len(names) <= len(PARAM_NAMES) and names == list(PARAM_NAMES[:len(names)])


def _is_identity(params: ChainParams) -> bool:
    return params.line_sensitivity == 0 and params.denoise_strength == 0 and params.colour_strength == 0 \
        and params.sharpen_strength == 0


def save_chain_router(folder, arrays: dict[str, np.ndarray], metadata: dict) -> pathlib.Path:
    """Write ``chain_router.npz`` and ``model_metadata.json`` (with the arrays' SHA-256) into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays_path = folder / "chain_router.npz"
    digest = save_arrays(arrays_path, {k: np.asarray(arrays[k], _ARRAYS[k][0]) for k in _ARRAYS})
    metadata = {**metadata, "format": FORMAT, "input_names": list(INPUT_NAMES), "param_names": list(PARAM_NAMES),
                "arrays_sha256": digest}
    (folder / "model_metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return folder


__all__ = ["ChainRouter", "BUNDLED_CHAIN_ROUTER", "INPUT_NAMES", "PARAM_NAMES", "ANCHORS", "map_from_anchors",
           "save_chain_router"]
