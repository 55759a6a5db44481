"""Ageing families: more damage generators for training, each written apart from every other one.

``ageing_damage(name, clean, severity, seed) -> (damaged uint8 H x W x 3, mask bool H x W, record)``
for ``name`` in ``AGEING_FAMILY_NAMES``.

Why: every colour map and network fitted so far learned the colour directions of the generators it
was trained on and recovered none of another generator's colour damage (docs/unet_training.md,
"Where the U-Net's remaining error is"). Domain generalisation needs many source domains. Each
module here models one way real pictures age, written by a separate author from a short brief
(the medium, the API, the severity scale) without reading the broad model, the legacy synthesizer,
the jitter family, the proxy family, the check family or each other (an import-linter contract
holds the imports; docs/damage.md has the briefs):

- ``dyes``: chromogenic colour prints and slides, dyes fading at their own rates, stain;
- ``silver``: silver-gelatin and albumen prints, yellowing, toning, mirroring, foxing;
- ``varnish``: paintings under aged varnish and grime, bloom, craquelure, losses;
- ``capture``: a picture reproduced badly: illuminant, exposure, tone curve, profile, lens, sensor.

They are training inputs (``training.unet_broad_data.DAMAGE_FAMILIES``) and, one at a time, a
left-out domain for measuring transfer between generators; never the check family's stand-in.
"""
from __future__ import annotations

import importlib

__all__ = ["ageing_damage", "AGEING_FAMILY_NAMES"]

AGEING_FAMILY_NAMES = ("dyes", "silver", "varnish", "capture")


def ageing_damage(name: str, clean, severity: str, seed: int):
    """Damage ``clean`` by the ageing family ``name`` (``AGEING_FAMILY_NAMES``) at ``severity`` with
    ``seed``: ``(damaged uint8, mask bool, record)``."""
    if name not in AGEING_FAMILY_NAMES:
        raise ValueError(f"ageing family {name!r}: expected one of {AGEING_FAMILY_NAMES}")
    return importlib.import_module(f"artrestore.ageing_families.{name}").damage(clean, severity, seed)
