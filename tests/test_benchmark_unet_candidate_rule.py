"""benchmarks/unet_candidate_rule.py: each criterion of the candidate rule on gains worked out by
hand, the exit status a script can stop on, and a refusal when a family the rule needs is missing."""
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import unet_candidate_rule  # noqa: E402


def _family(light, moderate, severe, se=0.1):
    return {lv: {"gain_db": g, "se_db": se} for lv, g in zip(("light", "moderate", "severe"), (light, moderate, severe))}


def _gains(**overrides):
    gains = {"broad": _family(0.1, 0.2, 0.3), "legacy": _family(0.0, 0.1, 0.2), "proxy": _family(0.0, 0.05, 0.1),
             "pack3_val_extra": _family(0.2, 0.1, 0.0)}
    return gains | overrides


def test_a_candidate_better_everywhere_passes():
    verdict = unet_candidate_rule.judge(_gains())
    assert verdict["passed"] and set(verdict["criteria"]) == {
        "a_in_family_levels", "b_proxy_mean", "c_mean_of_nine", "d_pack3_val_extra"}


def test_a_level_within_one_standard_error_passes_and_beyond_it_fails():
    assert unet_candidate_rule.judge(_gains(broad=_family(-0.09, 0.2, 0.3)))["passed"]
    verdict = unet_candidate_rule.judge(_gains(broad=_family(-0.11, 0.2, 0.3)))
    assert not verdict["criteria"]["a_in_family_levels"]["passed"] and not verdict["passed"]
    assert "broad light" in verdict["criteria"]["a_in_family_levels"]["figure"]


def test_the_proxy_mean_must_not_fall_even_by_a_little():
    verdict = unet_candidate_rule.judge(_gains(proxy=_family(-0.05, 0.0, 0.04)))  # mean -0.003 dB
    assert not verdict["criteria"]["b_proxy_mean"]["passed"]
    assert verdict["criteria"]["c_mean_of_nine"]["passed"]


def test_the_mean_of_nine_and_a_held_out_collection():
    flat = _family(0.0, 0.0, 0.0)
    verdict = unet_candidate_rule.judge(_gains(broad=flat, legacy=flat, proxy=flat))
    assert not verdict["criteria"]["c_mean_of_nine"]["passed"]  # zero is not positive
    # Held-out mean -0.1, its SE sqrt(3 x 0.05**2) / 3 = 0.029: below by more than one SE.
    verdict = unet_candidate_rule.judge(_gains(pack4_val_extra=_family(-0.1, -0.1, -0.1, se=0.05)))
    assert not verdict["criteria"]["d_pack4_val_extra"]["passed"] and verdict["criteria"]["d_pack3_val_extra"]["passed"]


def test_exit_status_and_missing_family(tmp_path: pathlib.Path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(_gains()))
    bad.write_text(json.dumps(_gains(proxy=_family(-1, -1, -1))))
    assert unet_candidate_rule.main(["--gains", str(good), "--out", str(tmp_path / "v.json")]) == 0
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is True
    assert unet_candidate_rule.main(["--gains", str(bad)]) == unet_candidate_rule.FAILED
    no_proxy = {k: v for k, v in _gains().items() if k != "proxy"}
    with pytest.raises(ValueError, match="proxy"):
        unet_candidate_rule.judge(no_proxy)
