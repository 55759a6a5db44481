"""The fast paths' use of the chain, for the restorer: ``classical`` runs the chain with its fixed
setting (``DEFAULT_CHAIN``), ``ml_guided`` with the setting and colour map the chain's router
predicts from the image's 14 FFT features and the chain features.

``restore_fast(image, vector, method, router)``: uint8 RGB image and its FFT feature vector in;
the restored image and the info entries out: ``params`` (the setting), ``stages`` (name, params,
ms), ``mask_fraction``, ``predicted_gain_db`` (ml_guided), ``colour_map`` (ml_guided, when the
learned map is used) and, with ``return_mask``, ``mask`` (H x W uint8, 255 = inpainted).
"""
from __future__ import annotations

import numpy as np

from artrestore.chain.chain import DEFAULT_CHAIN, ChainParams, run_chain
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.features import chain_features
from artrestore.chain.router import ChainRouter

FAST_METHODS = ("classical", "ml_guided")


def predict_setting(image: np.ndarray, vector: np.ndarray, router: ChainRouter):
    """(setting, predicted gain in dB, colour map or None, noise estimate) for ml_guided."""
    noise = estimate_noise(image)
    params, gain, colour_map = router.predict(np.concatenate([vector, chain_features(image, noise_sigma=noise)]))
    return params, gain, colour_map, noise


def colour_map_info(colour_map) -> dict | None:
    """The learned colour map as JSON-able lists (None: the blind estimate or no colour stage)."""
    if colour_map is None:
        return None
    gains, offsets = colour_map
    return {"gain": [round(float(v), 4) for v in gains], "offset": [round(float(v), 2) for v in offsets]}


def analysis_entries(image: np.ndarray, vector: np.ndarray, router: ChainRouter) -> dict:
    """What ml_guided would do with an image, without restoring it."""
    params, gain, colour_map, _ = predict_setting(image, vector, router)
    return {"params": params.as_dict(), "colour_map": colour_map_info(colour_map), "predicted_gain_db": round(gain, 3)}


def restore_fast(image: np.ndarray, vector: np.ndarray, method: str, router: ChainRouter, *,
                 return_mask: bool = False) -> tuple[np.ndarray, dict]:
    """(restored image, info entries) of the ``classical`` or ``ml_guided`` path."""
    if method not in FAST_METHODS:
        raise ValueError(f"method must be one of {FAST_METHODS}, got {method!r}")
    info: dict = {}
    params: ChainParams = DEFAULT_CHAIN
    colour_map, noise = None, None
    if method == "ml_guided":
        params, gain, colour_map, noise = predict_setting(image, vector, router)
        info["predicted_gain_db"] = round(gain, 3)
        if colour_map is not None:
            info["colour_map"] = colour_map_info(colour_map)
    result = run_chain(image, params, noise_sigma=noise, colour_map=colour_map)
    info.update(params=params.as_dict(), stages=result.stages,
                mask_fraction=round(float(np.count_nonzero(result.mask)) / result.mask.size, 6))
    if return_mask:
        info["mask"] = result.mask
    return result.image, info


__all__ = ["restore_fast", "predict_setting", "analysis_entries", "colour_map_info", "FAST_METHODS"]
