"""The broad damage model's parameter table: every kind, its families, its ranges and how often it occurs.

One place for these facts: the primitives draw through :class:`~artrestore.training.damage_draw.Draw`,
which reads ranges from ``RANGES`` and records each draw; ``docs/damage.md`` is written from this
table by :func:`ranges_markdown`; the tests check every recorded draw against it.

Units: intensities and contrasts in levels of 0-255; lengths in pixels for a 512 px short side
(scaled with the image); ``size`` / ``length`` in fractions of the short side or diagonal where
named so; ``amount`` / ``strength`` are mixing fractions (0 = none). Ranges are inclusive
``(low, high)``; integers are drawn uniformly from low..high, floats uniformly in [low, high].
"""
from __future__ import annotations

from artrestore.training.synthesis import SEVERITIES  # the same three levels as the legacy synthesizer

__all__ = ["SEVERITIES", "KINDS", "FAMILIES", "RANGES", "PROBABILITY", "CHOICES", "LINE_SPOT_KINDS",
           "MASK_LEVEL", "DAMAGE_MODEL_VERSION", "ranges_markdown"]

DAMAGE_MODEL_VERSION = "broad-1"

# Families per kind (one is drawn per application, uniformly).
FAMILIES = {
    "fade": ("paper", "mean", "curve", "channel"),
    "lift": ("linear", "toe"),
    "cast": ("sepia", "yellowing", "magenta", "cyan", "green"),
    "stains": ("soft", "hard"),
    "watermark": ("ring", "diffuse"),
    "foxing": ("scattered", "clustered"),
    "paper": ("fibre", "mottled", "laid"),
    "grain": ("mono", "colour"),
    "scratches": ("straight", "curved", "mixed"),
    "cracks": ("craquelure", "branching"),
    "crease": ("straight", "bent"),
    "dust": ("specks", "lint"),
    "hairs": ("curly", "wavy"),
    "vignette": ("centred", "offset"),
    "blur": ("gaussian", "anisotropic", "defocus", "motion"),
    "resample": ("area_cubic", "linear_linear", "cubic_lanczos", "nearest_cubic"),
    "noise": ("gaussian", "shot", "luma", "chroma"),
    "jpeg": ("once", "twice"),
}
KINDS = tuple(FAMILIES)

# Line and spot damage: these kinds add their changed pixels to the returned mask.
LINE_SPOT_KINDS = ("scratches", "cracks", "crease", "dust", "hairs", "foxing")
# A pixel joins the mask when the line/spot step changes some channel by at least this many levels.
MASK_LEVEL = 12.0

# Named (non-numeric) draws and their options.
CHOICES = {
    "tint": ("brown", "yellow", "grey", "rust", "tea"),
    "orientation": ("horizontal", "vertical"),
}

# Per severity, per kind: parameter -> (low, high). Keys a primitive records outside this table
# are not allowed (the tests check), so every recorded number is a documented draw.
_COMMON = {
    "fade": dict(gamma=(0.7, 1.4), tone=(185.0, 245.0)),
    "lift": dict(toe=(1.5, 4.0)),
    "stains": dict(edge=(0.02, 0.3), rim=(0.0, 1.0)),
    "watermark": dict(rim_width=(0.01, 0.06)),
    "foxing": dict(halo=(0.0, 1.0)),
    "paper": dict(grain_px=(1.0, 4.0), period_px=(6.0, 14.0)),
    "grain": dict(size_px=(0.5, 2.5), correlation=(0.5, 1.0)),
    "scratches": dict(softness=(0.0, 1.0), polarity=(-1, 1), curvature=(0.0, 0.08)),
    "cracks": dict(polarity=(-1, 1), tint_mix=(0.0, 1.0), jitter=(0.0, 0.3), branch=(0.05, 0.25)),
    "crease": dict(break_fraction=(0.0, 0.5), bend=(0.0, 0.25)),
    "dust": dict(bright=(0.0, 1.0)),
    "hairs": dict(polarity=(-1, 1), curl=(0.05, 0.5)),
    "vignette": dict(falloff=(1.5, 4.0), offset_x=(-0.25, 0.25), offset_y=(-0.25, 0.25)),
    "blur": dict(aspect=(0.15, 1.0), angle=(0.0, 180.0)),
    "noise": dict(chroma_px=(0.8, 2.0)),
}
_BY_SEVERITY = {
    "light": {
        "fade": dict(amount=(0.02, 0.15)), "lift": dict(black=(2.0, 14.0)), "cast": dict(strength=(0.02, 0.1)),
        "stains": dict(count=(1, 2), strength=(0.05, 0.2), size=(0.03, 0.12)),
        "watermark": dict(count=(1, 1), strength=(0.03, 0.1), size=(0.1, 0.25)),
        "foxing": dict(count=(3, 20), radius=(0.7, 2.5), strength=(0.15, 0.4)),
        "paper": dict(strength=(0.01, 0.04)), "grain": dict(strength=(1.0, 5.0)),
        "scratches": dict(count=(1, 3), width=(1, 2), contrast=(30.0, 90.0), length=(0.1, 0.5)),
        "cracks": dict(count=(1, 3), cell_px=(16.0, 44.0), coverage=(0.1, 0.4), contrast=(25.0, 70.0), width=(1, 1)),
        "crease": dict(count=(1, 1), contrast=(20.0, 60.0), width=(1, 2), shade=(0.0, 0.02)),
        "dust": dict(count=(5, 40), radius=(0.5, 1.5), contrast=(30.0, 120.0)),
        "hairs": dict(count=(1, 1), length=(0.05, 0.2), width=(1, 1), contrast=(40.0, 120.0)),
        "vignette": dict(strength=(0.05, 0.2)),
        "blur": dict(size=(0.3, 1.0)), "resample": dict(factor=(0.6, 0.9)),
        "noise": dict(sigma=(1.0, 5.0)), "jpeg": dict(quality=(60, 95)),
    },
    "moderate": {
        "fade": dict(amount=(0.1, 0.3)), "lift": dict(black=(8.0, 32.0)), "cast": dict(strength=(0.06, 0.22)),
        "stains": dict(count=(1, 3), strength=(0.1, 0.35), size=(0.05, 0.2)),
        "watermark": dict(count=(1, 2), strength=(0.05, 0.18), size=(0.15, 0.35)),
        "foxing": dict(count=(10, 60), radius=(1.0, 4.0), strength=(0.2, 0.55)),
        "paper": dict(strength=(0.02, 0.07)), "grain": dict(strength=(3.0, 9.0)),
        "scratches": dict(count=(2, 8), width=(1, 3), contrast=(50.0, 140.0), length=(0.2, 0.8)),
        "cracks": dict(count=(2, 8), cell_px=(14.0, 36.0), coverage=(0.3, 0.8), contrast=(40.0, 110.0), width=(1, 1)),
        "crease": dict(count=(1, 2), contrast=(30.0, 90.0), width=(1, 3), shade=(0.0, 0.035)),
        "dust": dict(count=(20, 120), radius=(0.5, 2.5), contrast=(40.0, 160.0)),
        "hairs": dict(count=(1, 3), length=(0.05, 0.3), width=(1, 2), contrast=(60.0, 160.0)),
        "vignette": dict(strength=(0.1, 0.35)),
        "blur": dict(size=(0.8, 1.8)), "resample": dict(factor=(0.4, 0.75)),
        "noise": dict(sigma=(3.0, 10.0)), "jpeg": dict(quality=(30, 85)),
    },
    "severe": {
        "fade": dict(amount=(0.25, 0.55)), "lift": dict(black=(20.0, 64.0)), "cast": dict(strength=(0.15, 0.45)),
        "stains": dict(count=(1, 6), strength=(0.2, 0.6), size=(0.08, 0.3)),
        "watermark": dict(count=(1, 3), strength=(0.1, 0.3), size=(0.2, 0.5)),
        "foxing": dict(count=(30, 160), radius=(1.0, 6.0), strength=(0.3, 0.75)),
        "paper": dict(strength=(0.04, 0.12)), "grain": dict(strength=(5.0, 15.0)),
        "scratches": dict(count=(5, 20), width=(1, 5), contrast=(70.0, 200.0), length=(0.2, 1.0)),
        "cracks": dict(count=(4, 16), cell_px=(12.0, 32.0), coverage=(0.5, 1.0), contrast=(60.0, 160.0), width=(1, 2)),
        "crease": dict(count=(1, 4), contrast=(40.0, 140.0), width=(1, 4), shade=(0.0, 0.05)),
        "dust": dict(count=(60, 300), radius=(0.5, 3.5), contrast=(60.0, 200.0)),
        "hairs": dict(count=(1, 6), length=(0.05, 0.4), width=(1, 2), contrast=(80.0, 200.0)),
        "vignette": dict(strength=(0.2, 0.55)),
        "blur": dict(size=(1.5, 3.2)), "resample": dict(factor=(0.25, 0.55)),
        "noise": dict(sigma=(6.0, 20.0)), "jpeg": dict(quality=(10, 60)),
    },
}
RANGES = {sev: {kind: {**_COMMON.get(kind, {}), **params} for kind, params in table.items()}
          for sev, table in _BY_SEVERITY.items()}

# Probability that a kind is applied at all, per severity (light, moderate, severe).
_P = {
    "fade": (0.6, 0.8, 0.95), "lift": (0.5, 0.7, 0.9), "cast": (0.6, 0.8, 0.95), "stains": (0.1, 0.35, 0.7),
    "watermark": (0.05, 0.15, 0.35), "foxing": (0.15, 0.35, 0.6), "paper": (0.2, 0.35, 0.5),
    "grain": (0.3, 0.5, 0.7), "scratches": (0.3, 0.6, 0.85), "cracks": (0.1, 0.35, 0.7),
    "crease": (0.03, 0.12, 0.3), "dust": (0.4, 0.6, 0.8), "hairs": (0.1, 0.25, 0.4),
    "vignette": (0.2, 0.35, 0.5), "blur": (0.6, 0.8, 0.95), "resample": (0.2, 0.35, 0.5),
    "noise": (0.6, 0.8, 0.95), "jpeg": (0.7, 0.8, 0.9),
}
PROBABILITY = {sev: {kind: p[i] for kind, p in _P.items()} for i, sev in enumerate(SEVERITIES)}

assert set(_P) == set(KINDS) and all(set(t) == set(KINDS) for t in _BY_SEVERITY.values())


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def ranges_markdown() -> str:
    """The table of ``docs/damage.md``: kind, families, probability and ranges per severity."""
    lines = ["| kind | families | parameter | " + " | ".join(SEVERITIES) + " |",
             "|---|---|---|" + "---|" * len(SEVERITIES)]
    for kind in KINDS:
        lines.append(f"| **{kind}** | {', '.join(FAMILIES[kind])} | probability | "
                     + " | ".join(f"{PROBABILITY[s][kind]:g}" for s in SEVERITIES) + " |")
        for name in RANGES["light"][kind]:
            cells = [f"{_fmt(RANGES[s][kind][name][0])}-{_fmt(RANGES[s][kind][name][1])}" for s in SEVERITIES]
            lines.append(f"| | | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
