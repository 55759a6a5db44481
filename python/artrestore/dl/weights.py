"""U-Net model folders: ``unet.npz`` (float16 arrays in the model's weight order, read with
``allow_pickle=False``) beside ``model_metadata.json`` (architecture, training record, SHA-256 of
the weights). The architecture is rebuilt from code (``dl.arch``), never loaded from a file, so
loading a model never executes code.
"""
from __future__ import annotations

import hashlib
import io
import json
import pathlib
from dataclasses import asdict

import numpy as np

from artrestore import _modelfile
from artrestore.dl.arch import build_unet
from artrestore.dl.contract import BUNDLED_UNET, FORMAT, UNetConfig
from artrestore.imageio import write_file_atomic

__all__ = ["save_weights", "update_metadata", "read_metadata", "load_model"]


def save_weights(model, config: UNetConfig, folder, metadata: dict) -> pathlib.Path:
    """Write ``unet.npz`` (float16) and ``model_metadata.json`` into ``folder``, each through a
    temporary file renamed over the old one (a killed writer never leaves half a file)."""
    folder = pathlib.Path(folder)
    weights = model.get_weights()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(weights)})
    data = buffer.getvalue()
    meta = {**metadata, "format": FORMAT, "architecture": asdict(config),
            "parameters": int(sum(w.size for w in weights)),
            "weights_sha256": hashlib.sha256(data).hexdigest()}
    write_file_atomic(folder / "unet.npz", data)
    _write_metadata(folder, meta)
    return folder


def update_metadata(folder, metadata: dict) -> pathlib.Path:
    """Replace the training record in ``folder``'s metadata, keeping what describes the weights on
    disk (format, architecture, parameter count, SHA-256): for a record completed after the weights
    were saved, without writing the weights again."""
    folder = pathlib.Path(folder)
    on_disk = read_metadata(folder)
    kept = {k: on_disk[k] for k in ("format", "architecture", "parameters", "weights_sha256") if k in on_disk}
    _write_metadata(folder, {**metadata, **kept})
    return folder


def _write_metadata(folder: pathlib.Path, meta: dict) -> None:
    write_file_atomic(folder / "model_metadata.json", (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())


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
