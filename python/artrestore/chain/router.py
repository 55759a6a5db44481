"""The chain's router: an image's features in, the chain's parameters out (the ``ml_guided`` path).

A random forest predicts, for each setting of a fixed bank of chain settings (``configs``, one row
per setting, columns ``PARAM_NAMES``), the PSNR gain in dB that setting would give over the
untouched input; ``predict`` runs the setting with the largest predicted gain. The bank always
holds the identity setting (every stage off, gain 0 by definition), so an image for which nothing
is predicted to help is left alone.

Input features: the 14 FFT damage features (``artrestore.analyze``) followed by
``CHAIN_FEATURE_NAMES`` (``chain.features``). Stored as ``chain_router.npz`` (plain arrays: the
forest, the feature scaler, the bank) beside ``model_metadata.json`` (format, names, SHA-256 of the
arrays, training record); loading checks the hash, dtypes and shapes and never executes code.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import fields

import numpy as np

from artrestore import _core
from artrestore._modelfile import check_arrays, read_metadata, sha256
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
}


class ChainRouter:
    """A fitted forest (features -> predicted gain of each bank setting), evaluated by the core."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self.metadata = metadata
        n_inputs = len(INPUT_NAMES)
        self._mean, self._scale = arrays["scaler_mean"], arrays["scaler_scale"]
        if self._mean.shape != (n_inputs,) or self._scale.shape != (n_inputs,) or not np.all(self._scale > 0):
            raise ValueError(f"chain router: scaler arrays do not match the {n_inputs} input features")
        configs = arrays["configs"]
        if configs.ndim != 2 or configs.shape[1] != len(PARAM_NAMES) or not np.all(np.isfinite(configs)):
            raise ValueError("chain router: configs must be a finite (n_settings, n_params) array")
        if arrays["value"].shape != (arrays["feature"].shape[0], configs.shape[0]):
            raise ValueError("chain router: value array must be (n_nodes, n_settings)")
        self.configs = [ChainParams(**dict(zip(PARAM_NAMES, map(float, row)))).validated() for row in configs]
        identity = [i for i, c in enumerate(self.configs) if _is_identity(c)]
        if not identity:
            raise ValueError("chain router: the bank must hold the identity setting (every stage off)")
        self._identity = identity[0]
        self.min_gain_db = float(metadata.get("min_gain_db", 0.0))
        self._forest = _core.Forest(arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"],
                                    arrays["value"], arrays["tree_roots"], n_inputs)

    @classmethod
    def load(cls, path=None) -> "ChainRouter":
        """Load a folder (``chain_router.npz`` + ``model_metadata.json``); None: the bundled one."""
        folder = pathlib.Path(path) if path is not None else BUNDLED_CHAIN_ROUTER
        if folder.is_file():
            folder = folder.parent
        arrays_path = folder / "chain_router.npz"
        metadata = read_metadata(folder, FORMAT, "chain router")
        if metadata.get("input_names") != list(INPUT_NAMES) or metadata.get("param_names") != list(PARAM_NAMES):
            raise ValueError("chain router: model was trained on other features or parameters")
        check_arrays(arrays_path, metadata.get("arrays_sha256"), "chain router")
        try:
            with np.load(arrays_path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in _ARRAYS}
        except (KeyError, ValueError, OSError) as error:
            raise ValueError(f"chain router: {arrays_path} is not a chain router array file ({error})") from None
        for name, (dtype, ndim) in _ARRAYS.items():
            if arrays[name].dtype != dtype or arrays[name].ndim != ndim:
                raise ValueError(f"chain router: array {name!r} must be {np.dtype(dtype).name} with {ndim} dims")
        return cls(arrays, metadata)

    def predict_gains(self, inputs: np.ndarray) -> np.ndarray:
        """Predicted gain (dB) of every bank setting for an (n, n_inputs) or (n_inputs,) array."""
        x = np.asarray(inputs, np.float64)
        single = x.ndim == 1
        x = ((x.reshape(-1, len(INPUT_NAMES)) - self._mean) / self._scale).astype(np.float32)
        out = self._forest.predict(x)
        return out[0] if single else out

    def predict(self, inputs: np.ndarray) -> tuple[ChainParams, float]:
        """(the bank setting with the largest predicted gain, that gain in dB); the identity setting
        when no gain exceeds the margin chosen by cross-validation (``min_gain_db``)."""
        gains = self.predict_gains(inputs)
        best = int(np.argmax(gains))
        if gains[best] <= self.min_gain_db:
            best = self._identity
        return self.configs[best], float(gains[best])


def _is_identity(params: ChainParams) -> bool:
    return params.line_sensitivity == 0 and params.denoise_strength == 0 and params.colour_strength == 0 \
        and params.sharpen_strength == 0


def save_chain_router(folder, arrays: dict[str, np.ndarray], metadata: dict) -> pathlib.Path:
    """Write ``chain_router.npz`` and ``model_metadata.json`` (with the arrays' SHA-256) into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays_path = folder / "chain_router.npz"
    np.savez_compressed(arrays_path, **{k: np.asarray(arrays[k], _ARRAYS[k][0]) for k in _ARRAYS})
    metadata = {**metadata, "format": FORMAT, "input_names": list(INPUT_NAMES), "param_names": list(PARAM_NAMES),
                "arrays_sha256": sha256(arrays_path)}
    (folder / "model_metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return folder


__all__ = ["ChainRouter", "BUNDLED_CHAIN_ROUTER", "INPUT_NAMES", "PARAM_NAMES", "save_chain_router"]
