"""The proxy family's table: which effects exist, how likely each is per severity, and strengths.

Every effect takes one strength ``s`` in [0, 1] drawn uniformly in ``STRENGTH[severity]``; the
effect maps it to its own physical parameters (``tone``, ``marks``, ``reproduction``). Lengths are
in pixels at a 512 px short side and scale with the image.
"""
from __future__ import annotations

__all__ = ["SEVERITIES", "STRENGTH", "PROBABILITY", "TONE", "MARKS", "REPRODUCTION", "MASK_OPACITY"]

SEVERITIES = ("light", "moderate", "severe")
STRENGTH = {"light": (0.05, 0.35), "moderate": (0.3, 0.65), "severe": (0.6, 1.0)}

TONE = ("curves", "crosstalk", "varnish", "exposure", "flare", "toning")
MARKS = ("abrasion", "tears", "crazing", "specks", "losses", "blots")
REPRODUCTION = ("screen", "smear", "rescan", "speckle", "posterize", "jpeg")

# Probability of each effect per severity (light, moderate, severe).
_P = {
    "curves": (0.7, 0.85, 0.95), "crosstalk": (0.4, 0.6, 0.8), "varnish": (0.3, 0.5, 0.7),
    "exposure": (0.3, 0.4, 0.5), "flare": (0.2, 0.35, 0.5), "toning": (0.2, 0.4, 0.6),
    "abrasion": (0.2, 0.5, 0.8), "tears": (0.2, 0.5, 0.8), "crazing": (0.1, 0.3, 0.6),
    "specks": (0.4, 0.6, 0.8), "losses": (0.05, 0.2, 0.5), "blots": (0.1, 0.3, 0.5),
    "screen": (0.1, 0.15, 0.2), "smear": (0.5, 0.7, 0.9), "rescan": (0.2, 0.35, 0.5),
    "speckle": (0.5, 0.7, 0.9), "posterize": (0.1, 0.15, 0.2), "jpeg": (0.7, 0.8, 0.9),
}
PROBABILITY = {sev: {effect: p[i] for effect, p in _P.items()} for i, sev in enumerate(SEVERITIES)}

# A mark's pixel joins the mask where the mark covers it at this opacity or more (blots, which
# tint rather than cover, never do).
MASK_OPACITY = 0.4

assert set(_P) == set(TONE) | set(MARKS) | set(REPRODUCTION)
