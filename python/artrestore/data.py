"""Deprecated: ``artrestore.data`` moved to ``artrestore.training.synthesis`` (damage synthesis) and
``artrestore.training.datasets`` (paired datasets); ``IMAGE_SUFFIXES`` is ``artrestore.imageio``'s.
This module re-exports their names for one release."""
from __future__ import annotations

import warnings

from artrestore.imageio import IMAGE_SUFFIXES
from artrestore.training.datasets import (
                                          BuildReport,
                                          build_dataset,
                                          export_packaged_images,
                                          fit_size,
                                          list_images,
                                          load_pairs,
                                          split_sources,
)
from artrestore.training.synthesis import SEVERITIES, synthesize_damage

__all__ = ["IMAGE_SUFFIXES", "SEVERITIES", "synthesize_damage", "BuildReport", "build_dataset",
           "export_packaged_images", "fit_size", "list_images", "load_pairs", "split_sources"]

warnings.warn("artrestore.data is deprecated: import from artrestore.training.synthesis / "
              "artrestore.training.datasets", DeprecationWarning, stacklevel=2)
