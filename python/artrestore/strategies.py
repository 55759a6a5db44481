"""The restoration strategies a caller may ask for (``restore(..., strategy=)``, ``--strategy``, the
web form) and the method each one forces; ``auto`` (None) lets the decision engine choose; ``none`` returns the
image as it is (the learned decision's do-no-harm outcome); ``cascade`` runs ``ml_guided`` and then the U-Net
on its output (the chain's colour, the network's repairs; docs/routing.md, "A cascade path"), only when asked
for: ``auto`` does not choose it until the decision is fitted with its outcomes."""
from __future__ import annotations

__all__ = ["STRATEGIES", "DEFAULT_STRATEGY", "UNET_METHODS", "PREFERENCES", "DEFAULT_PREFERENCE", "DECISIONS"]

STRATEGIES = {"auto": None, "classical": "classical", "ml_guided": "ml_guided", "dl": "deep_learning",
              "deep_learning": "deep_learning", "cascade": "cascade", "none": "none"}
DEFAULT_STRATEGY = "auto"
UNET_METHODS = ("deep_learning", "cascade")  # the methods that run the U-Net (a GPU worker's, in a cluster)
# How ``auto`` (the learned decision) trades quality against time: ``quality`` ignores time,
# ``speed`` weighs it most (``decision.LearnedDecision.choose``; ``prefer=``, ``--prefer``).
PREFERENCES = ("quality", "balanced", "speed")
DEFAULT_PREFERENCE = "balanced"
# What decides ``auto``'s path: the learned decision (``decision.LearnedDecision``, the default) or
# the guide's threshold rule (``router.DecisionEngine``); ``decision=``, ``--decision``.
DECISIONS = ("learned", "rule")
