"""Safe reading of model folders shared by the routers, the decision and the U-Net: a
``model_metadata.json`` with a format tag and a SHA-256 of the array file beside it, and the
arrays themselves (``.npz`` read without pickle, each checked for dtype and rank). Nothing here
executes code from a file."""
from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np


def model_folder(path, bundled: pathlib.Path) -> pathlib.Path:
    """The folder a model is read from: ``path`` (the folder, or a file inside it), None: ``bundled``."""
    folder = pathlib.Path(path) if path is not None else pathlib.Path(bundled)
    return folder.parent if folder.is_file() else folder


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def read_metadata(folder: pathlib.Path, fmt: str, label: str, *, filename: str = "model_metadata.json",
                  missing_hint: str = "") -> dict:
    """The folder's ``filename`` (JSON, format tag ``fmt``) as a dict, or FileNotFoundError (with
    ``missing_hint`` in brackets) / ValueError naming it."""
    meta_path = pathlib.Path(folder) / filename
    if not meta_path.is_file():
        raise FileNotFoundError(f"{label}: {meta_path} not found" + (f" ({missing_hint})" if missing_hint else ""))
    try:
        meta = json.loads(meta_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{label}: {meta_path} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ValueError(f"{label}: {meta_path} is not an {fmt} file")
    return meta


def check_arrays(path: pathlib.Path, expected_sha256: str | None, label: str) -> None:
    """The array file exists and matches the hash recorded in its metadata."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{label}: {path} not found")
    if sha256(path) != expected_sha256:
        raise ValueError(f"{label}: {path} does not match the SHA-256 in its metadata (tampered or foreign)")


def load_arrays(path: pathlib.Path, schema: dict, label: str) -> dict[str, np.ndarray]:
    """The arrays named in ``schema`` ({name: (dtype, ndim)}) from the ``.npz`` at ``path``, read
    without pickle; ValueError naming the file, or the array whose dtype or rank is not the schema's."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in schema}
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"{label}: {path} is not a {label} array file ({error})") from None
    for name, (dtype, ndim) in schema.items():
        if arrays[name].dtype != dtype or arrays[name].ndim != ndim:
            raise ValueError(f"{label}: array {name!r} must be {np.dtype(dtype).name} with {ndim} dims")
    return arrays
