"""benchmarks/decision_margin_sweep.py: the rule picks the best lower-of-the-families gain among the
pairs safe on every family (worked out by hand here)."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import decision_margin_sweep  # noqa: E402


def _entry(margin, light, all_damaged, time=0.3, se=0.05):
    levels = {"light": (light, se), "moderate": (1.0, se), "severe": (2.0, se)}
    return {"margin_db": margin, "cost_db_per_s": 5.0, "levels": levels, "all_damaged": all_damaged,
            "time_fraction": time}


def test_the_pair_safe_on_both_families_with_the_best_worse_gain_wins():
    result = {"families": {
        # margin 0: best on "a" but light below the input on "b"; margin 1: safe, worse gain 0.8;
        # margin 2: safe but slower than half of always-U-Net on "a"; margin 3: safe, worse gain 0.6.
        "a": {"grid": [_entry(0, 0.5, 2.0), _entry(1, 0.3, 1.5), _entry(2, 0.4, 2.5, time=0.6), _entry(3, 0.2, 0.9)]},
        "b": {"grid": [_entry(0, -0.2, 1.0), _entry(1, 0.1, 0.8), _entry(2, 0.2, 1.2), _entry(3, 0.1, 0.6)]},
    }}
    chosen = decision_margin_sweep.choose(result)
    assert chosen["pair"] == [1, 5.0] and chosen["lower_all_damaged_db"] == 0.8


def test_nothing_safe_gives_no_pair():
    result = {"families": {"a": {"grid": [_entry(0, 0.01, 1.0, se=0.05)]}}}
    assert decision_margin_sweep.choose(result) == {"pair": None}
