"""benchmarks/hold_rule_probe.py: its closed-form PSNR of a held output against the held image
itself (dl.hold.hold_change, then the PSNR), and each rule's constraints on hand-made terms."""
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import hold_rule_probe  # noqa: E402
from artrestore.dl.hold import hold_change, keep_for  # noqa: E402
from artrestore.metrics import psnr  # noqa: E402


def test_closed_form_matches_the_held_image():
    rng = np.random.default_rng(0)
    outcomes = []
    for level in ("clean", "light", "moderate", "severe"):
        clean = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        image = np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
        restored = np.clip(clean + rng.normal(0, 6, clean.shape), 0, 255).astype(np.uint8)
        outcomes.append((level, clean, image, restored, {"light": 0.2, "moderate": 0.5, "severe": 0.3}))
    terms = hold_rule_probe.image_terms(outcomes)
    shares = {"light": 0.3, "moderate": 0.7, "severe": 0.9}
    closed = hold_rule_probe.level_psnr(terms, shares)
    for level, clean, image, restored, probability in outcomes:
        held = hold_change(image, restored, keep_for(probability, shares))
        assert closed[level] == pytest.approx(min(psnr(clean, held), hold_rule_probe.CAP), abs=0.05)


def _terms(level, a, b, c, probability):
    return {"level": level, "probability": probability, "a": a, "b": b, "c": c}


def test_rules_keep_their_floors():
    light_only = {"light": 1.0, "moderate": 0.0, "severe": 0.0}
    severe_only = {"light": 0.0, "moderate": 0.0, "severe": 1.0}
    moderate_only = {"light": 0.0, "moderate": 1.0, "severe": 0.0}
    terms = [_terms("clean", 0.0, 0.0, 4.0, light_only),        # the network adds noise to clean images
             _terms("light", 20.0, 0.0, 10.0, light_only),      # and to light damage: any share harms it
             _terms("moderate", 100.0, -50.0, 50.0, moderate_only),  # best kept whole
             _terms("severe", 400.0, -200.0, 200.0, severe_only)]
    no_harm = hold_rule_probe.choose(terms, "no_harm")
    assert no_harm["light"] == 0.0 and no_harm["moderate"] == 1.0 and no_harm["severe"] == 1.0
    keep_all = hold_rule_probe.choose(terms, "keep_all")
    scores = hold_rule_probe.level_psnr(terms, keep_all)
    everything = hold_rule_probe.level_psnr(terms, dict.fromkeys(hold_rule_probe.CLASSES, 1.0))
    assert all(scores[level] >= everything[level] for level in hold_rule_probe.LEVELS)
