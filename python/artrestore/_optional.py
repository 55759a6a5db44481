"""The one place that knows which optional dependency comes with which extra (pyproject.toml's
``[project.optional-dependencies]``), and turns a missing one into ``MissingDependency`` with the
install hint. Library code imports optional packages through ``require``; the CLI maps any
``ModuleNotFoundError`` it sees through ``missing_dependency``.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from artrestore.errors import MissingDependency

__all__ = ["EXTRAS", "require", "missing_dependency"]

# top-level module name -> (extra, what it is needed for)
EXTRAS = {
    "tensorflow": ("dl", "the U-Net"),
    "keras": ("dl", "the U-Net"),
    "grpc": ("serve", "the gRPC client and stand-in server"),
    "google.protobuf": ("serve", "the gRPC client and stand-in server"),
    "fastapi": ("web", "the web API"),
    "uvicorn": ("web", "the web API"),
    "multipart": ("web", "the web API"),
    "sklearn": ("train", "fitting the router"),
    "skimage": ("train", "building training data"),
    "ray": ("cluster", "restoring on a Ray cluster"),
    "pyarrow": ("cluster", "filesystem URLs (s3://, gs://, ...)"),
    "fsspec": ("cluster", "filesystem URLs pyarrow has no native filesystem for"),
}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise ``MissingDependency`` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise missing_dependency(error) or error from None


def missing_dependency(error: ModuleNotFoundError) -> MissingDependency | None:
    """The ``MissingDependency`` for a ModuleNotFoundError about an optional package, else None."""
    if isinstance(error, MissingDependency):
        return error
    name = error.name or ""
    for module, (extra, purpose) in EXTRAS.items():
        if name == module or name.startswith(module + "."):
            return MissingDependency(module, extra, purpose)
    return None
