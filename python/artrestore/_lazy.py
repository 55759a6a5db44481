"""Packages whose submodules and former names resolve on first access (PEP 562), so importing the
package imports none of them: ``lazy_package(name, submodules, moved)`` returns the package's
``__getattr__`` and ``__dir__``. ``moved`` maps a former name to (module, name there); a resolved
name is cached on the package."""
from __future__ import annotations

import importlib
import sys

__all__ = ["lazy_package"]


def lazy_package(package: str, submodules, moved: dict[str, tuple[str, str]]):
    """(``__getattr__``, ``__dir__``) for the package named ``package``."""
    submodules = tuple(submodules)

    def __getattr__(name: str):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        if name not in moved:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = moved[name]
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted({*vars(sys.modules[package]), *submodules, *moved})

    return __getattr__, __dir__
