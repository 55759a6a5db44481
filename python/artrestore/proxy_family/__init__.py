"""The proxy family: a third damage generator, for choosing, never for training.

``proxy_damage(clean, severity, seed) -> (damaged uint8, mask bool H x W, record)``.

Why a third family: every setting, hold and margin was chosen on damage from the generator the
models were fitted to (the broad model), and several choices that won there lost on the check
family (docs/damage.md). Domain-generalisation practice chooses on a domain left out of training
("leave one domain out"). This family is that domain: written apart from the broad model, the
legacy synthesizer and the check family (its own primitives and parameterisation; it imports
none of them, and an import-linter contract holds it), it is used only to *choose* (validation of
a setting or a hold against the damage models were not fitted to). It is never a training input:
no network, forest or colour map sees its images as examples. The check family stays the test.

Damage is modelled as an object that aged (its dyes and varnish), was marked (abrasion, tears,
crazing, specks, paint losses, blots) and was then reproduced (print screen, smearing, rescanning,
speckle noise, posterisation, JPEG). Each effect occurs with a per-severity probability and draws its
own strength in the severity's range (``levels.STRENGTH``); see ``levels.PROBABILITY``.
"""
from artrestore.proxy_family.generator import PROXY_FAMILY_VERSION, proxy_damage

__all__ = ["proxy_damage", "PROXY_FAMILY_VERSION"]
