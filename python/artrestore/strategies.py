"""The restoration strategies a caller may ask for (``restore(..., strategy=)``, ``--strategy``, the
web form) and the method each one forces; ``auto`` (None) lets the decision engine choose; ``none`` returns the
image as it is (the learned decision's do-no-harm outcome)."""
from __future__ import annotations

__all__ = ["STRATEGIES", "DEFAULT_STRATEGY"]

STRATEGIES = {"auto": None, "classical": "classical", "ml_guided": "ml_guided", "dl": "deep_learning",
              "deep_learning": "deep_learning", "none": "none"}
DEFAULT_STRATEGY = "auto"
