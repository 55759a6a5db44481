"""U-Net model folders: ``unet.npz`` (float16 arrays in the model's weight order, read with
``allow_pickle=False``) beside ``model_metadata.json`` (architecture, training record, SHA-256 of
the weights). The architecture is rebuilt from code (``dl.arch``), never loaded from a file, so
loading a model never executes code.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import asdict

import numpy as np

from artrestore import _modelfile
from artrestore.dl.arch import build_unet
from artrestore.dl.contract import BUNDLED_UNET, FORMAT, UNetConfig

__all__ = ["save_weights", "read_metadata", "load_model"]


def save_weights(model, config: UNetConfig, folder, metadata: dict) -> pathlib.Path:
    """Write ``unet.npz`` (float16) and ``model_metadata.json`` into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = model.get_weights()
    path = folder / "unet.npz"
    np.savez_compressed(path, **{f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(weights)})
    meta = {**metadata, "format": FORMAT, "architecture": asdict(config),
            "parameters": int(sum(w.size for w in weights)),
            "weights_sha256": _modelfile.sha256(path)}
    (folder / "model_metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return folder


def read_metadata(folder) -> dict:
    """The folder's metadata (FileNotFoundError / ValueError when missing or not a U-Net's)."""
    return _modelfile.read_metadata(folder, FORMAT, "U-Net")


def load_model(folder=None, *, dtype_policy: str | None = None):
    """Rebuild the U-Net from its metadata and load its float16 weights (hash and shapes checked);
    returns ``(keras model, UNetConfig, metadata)``. ``folder`` None: the bundled model.
    ``dtype_policy``: the compute policy to build it with (``dl.contract.COMPUTE_PRECISIONS``)."""
    folder = pathlib.Path(folder) if folder is not None else BUNDLED_UNET
    meta = read_metadata(folder)
    path = folder / "unet.npz"
    _modelfile.check_arrays(path, meta.get("weights_sha256"), "U-Net")
    try:
        config = UNetConfig(**meta["architecture"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"U-Net: bad architecture in metadata ({error})") from None
    model = build_unet(config, dtype_policy=dtype_policy)
    expected = model.get_weights()
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[f"w{i:03d}"] for i in range(len(expected))]
            extra = len(npz.files) != len(expected)
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"U-Net: {path} does not hold this architecture's weights ({error})") from None
    if extra or any(a.shape != e.shape for a, e in zip(arrays, expected)):
        raise ValueError(f"U-Net: {path} does not hold this architecture's weights (shape mismatch)")
    model.set_weights([a.astype(np.float32) for a in arrays])
    return model, config, meta
