"""Exceptions shared across layers, so that no layer imports another just to name its errors.

- ``DeepLearningUnavailable``: the U-Net path could not run (disabled, TensorFlow or grpcio
  missing, model server down or too slow). Backends raise it; the restorer falls back on it.
- ``MissingDependency``: an optional dependency is not installed; its message names the extra to
  install (``pip install "artrestore[dl]"``). A subclass of ImportError, so ``except ImportError``
  still catches it.
"""
from __future__ import annotations

__all__ = ["DeepLearningUnavailable", "MissingDependency"]


class DeepLearningUnavailable(RuntimeError):
    """The U-Net path could not run (disabled, TensorFlow missing, server down or too slow)."""


class MissingDependency(ImportError):
    """An optional dependency is missing; ``extra`` is the artrestore extra that installs it."""

    def __init__(self, module: str, extra: str, purpose: str = ""):
        self.module, self.extra = module, extra
        what = f" ({purpose})" if purpose else ""
        super().__init__(f"{module} is not installed{what}: pip install \"artrestore[{extra}]\"", name=module)
