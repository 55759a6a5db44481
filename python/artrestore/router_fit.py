"""Deprecated: ``artrestore.router_fit`` moved to ``artrestore.training.router_fit`` (and its
``evaluate_toolbox`` to ``artrestore.training.toolbox``); this module re-exports them for one release."""
from __future__ import annotations

import warnings

from artrestore.training import router_fit as _moved
from artrestore.training.router_fit import *  # noqa: F403
from artrestore.training.router_fit import __all__  # noqa: F401
from artrestore.training.toolbox import evaluate_toolbox  # noqa: F401

warnings.warn("artrestore.router_fit is deprecated: import artrestore.training.router_fit",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    return getattr(_moved, name)
