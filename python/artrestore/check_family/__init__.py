"""The check family: an independent damage generator for measuring generalisation, never for training.

``check_damage(clean, severity, seed) -> (damaged uint8, mask bool H x W, record)``. Written apart
from the training damage model (``artrestore.training``) and the legacy synthesizer
(``artrestore.training.synthesis``, formerly ``artrestore.data``), with its own primitives and
parameterisation, and importing nothing from either (a test and an import-linter contract hold
this). Never train, calibrate, tune or choose anything on its output: it is the "unseen" half of
every quality table.
"""
from artrestore.check_family.generator import CHECK_FAMILY_VERSION, check_damage

__all__ = ["check_damage", "CHECK_FAMILY_VERSION"]
