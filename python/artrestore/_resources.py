"""Where the files bundled with the package live (read-only data, never code)."""
from __future__ import annotations

import pathlib

__all__ = ["SAMPLES"]

# The demo's sample images: samples/damaged/NAME_SEVERITY.jpg and samples/clean/NAME_SEVERITY.jpg.
SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"
