"""The size the learned models know, written once.

``OUTCOME_SIDE`` (px): the longer side of the images every outcome table is measured at (routing,
severity, the clean guard, the chain's settings), so of every image the forests were fitted on; the
U-Net's change is measured there too (``acceptance``), and the decision charges time at that size at
most (``decision.COST_REFERENCE_KEY``). A module of its own, free of the compiled core, because the
command line's parsers use it as a default and must build where the core is not (GPU machines).
"""
from __future__ import annotations

__all__ = ["OUTCOME_SIDE"]

OUTCOME_SIDE: int = 384
