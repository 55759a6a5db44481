"""Safe reading of model folders shared by the router and the U-Net: a ``model_metadata.json`` with
a format tag and a SHA-256 of the array file beside it. Nothing here executes code from a file."""
from __future__ import annotations

import hashlib
import json
import pathlib


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def read_metadata(folder: pathlib.Path, fmt: str, label: str) -> dict:
    """The folder's ``model_metadata.json`` as a dict, or FileNotFoundError / ValueError naming it."""
    meta_path = pathlib.Path(folder) / "model_metadata.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{label}: {meta_path} not found")
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
