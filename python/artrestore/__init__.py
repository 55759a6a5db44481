"""artrestore: fast hybrid restoration of damaged artworks and old photographs.

Images are RGB ``uint8`` arrays of shape H x W x 3 unless a function says otherwise.
The heavy parts (TensorFlow, gRPC, scikit-learn) load only when used, so ``import artrestore``
stays fast and the classical path never imports TensorFlow.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "analyze": "analysis",
    "analyze_vector": "analysis",
    "as_rgb": "_validate",
    "FEATURE_NAMES": "analysis",
    "analyze_extra": "analysis",
    "routing_vector": "analysis",
    "EXTRA_FEATURE_NAMES": "analysis",
    "ROUTING_FEATURE_NAMES": "analysis",
    "unsharp_mask": "classical",
    "color_correct": "classical",
    "color_correct_sharpen": "classical",
    "read_image": "imageio",
    "write_image": "imageio",
    "synthesize_damage": "training.synthesis",
    "Router": "router",
    "RestorationParams": "router",
    "DecisionEngine": "router",
    "HybridRestorer": "restorer",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'artrestore' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"artrestore.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
