"""The classical setting's choice and the router's score (training.chain_fit / chain_cv): do no harm
comes first. Outcomes are made up, so the right answer is known by construction."""
import numpy as np
import pytest

pytest.importorskip("sklearn")

from artrestore.chain.router import PARAM_NAMES  # noqa: E402
from artrestore.training import chain_cv, chain_fit  # noqa: E402


def _setting(**stages):
    values = {**dict.fromkeys(PARAM_NAMES, 0.0), "noise_ceiling": 6.0, "cast_tolerance": 0.18, "sharpen_sigma": 1.0,
              "black_tolerance": 16.0, "white_tolerance": 60.0}
    values.update(stages)
    return [values[n] for n in PARAM_NAMES]


def outcomes(columns: dict[str, list[float]], severity: list[str], clean_psnr: float = 60.0) -> dict:
    """Each column: the gain (dB) of one setting on each case; clean cases start at ``clean_psnr``."""
    psnr_in = np.array([clean_psnr if s == "none" else 20.0 for s in severity])
    gains = np.array(list(columns.values())).T
    settings = [_setting(), _setting(colour_strength=0.5), _setting(colour_strength=1.0), _setting(denoise_strength=0.7)]
    return {"severity": np.array(severity), "psnr_in": psnr_in, "psnr_out": psnr_in[:, None] + gains,
            "settings": np.array(settings[:gains.shape[1]], np.float64)}


SEV = ["light"] * 4 + ["moderate"] * 4 + ["severe"] * 4 + ["none"] * 2


def test_the_default_is_the_setting_that_gains_more_than_it_harms():
    data = outcomes({
        "identity": [0.0] * 14,
        # +1.0 dB on average at each severity but half the images of each severity lose 1 dB:
        # score 1.0 - 2 x 0.5 = 0.
        "risky": [3, -1, 3, -1] * 3 + [0, 0],
        # +0.5 on average, nothing below: score 0.5.
        "steady": [0.5] * 12 + [0, 0],
        # the best mean (+2) but a loss on light on average: never eligible.
        "harmful": [-0.5] * 4 + [3.25] * 8 + [0, 0],
    }, SEV)
    index, table = chain_fit.choose_default(data, clean_share=0.9)
    assert index == 2
    assert table["light"]["mean_gain_db"] == pytest.approx(0.5)


def test_the_identity_is_chosen_when_every_setting_harms_or_damages_clean_images():
    data = outcomes({"identity": [0.0] * 14, "risky": [3, -1, 3, -1] * 3 + [0, 0],
                     "clean_breaker": [1.0] * 12 + [-30, -30]}, SEV)
    index, _ = chain_fit.choose_default(data, clean_share=0.9)
    assert index == 0


def test_with_another_family_a_setting_must_hold_on_both_and_is_scored_by_the_worse():
    seen = outcomes({"identity": [0.0] * 14, "bold": [2.0] * 12 + [0, 0], "gentle": [0.4] * 12 + [0, 0]}, SEV)
    # On the other family the bold setting loses on light damage; the gentle one gains a little everywhere.
    other = outcomes({"identity": [0.0] * 14, "bold": [-1.0] * 4 + [2.0] * 8 + [0, 0],
                      "gentle": [0.2] * 12 + [0, 0]}, SEV)
    assert chain_fit.choose_default(seen, clean_share=0.9)[0] == 1
    index, table = chain_fit.choose_default(seen, clean_share=0.9, also=(other,))
    assert index == 2 and table["light"]["mean_gain_db"] == pytest.approx(0.4)  # the table is the first family's
    mismatched = dict(other, settings=other["settings"][::-1])
    with pytest.raises(ValueError, match="settings grid"):
        chain_fit.choose_default(seen, also=(mismatched,))


def test_score_charges_a_mean_loss_at_any_severity_more_than_it_credits_a_gain():
    even = {"light": {"mean_gain_db": 0.0, "share_below_input": 0.0},
            "severe": {"mean_gain_db": 0.0, "share_below_input": 0.0}}
    traded = {"light": {"mean_gain_db": -0.5, "share_below_input": 0.0},
              "severe": {"mean_gain_db": 1.0, "share_below_input": 0.0}}
    # Mean gain +0.25 dB, but it was bought with a loss on light damage.
    assert chain_cv.score(traded) < chain_cv.score(even)
    assert chain_cv.score(traded) == pytest.approx((-0.5 - chain_cv.HARM_PENALTY * 0.5 + 1.0) / 2)


def test_the_shipped_classical_setting_and_the_former_one_are_settings_of_the_grid():
    # choose_default picks among the grid's settings, so the shipped DEFAULT_CHAIN must be one of
    # them (else the rule could not have chosen it); the former setting stays in the grid so a
    # refit can compare against it, and exactly one setting is the identity.
    from artrestore.chain import DEFAULT_CHAIN, ChainParams
    from artrestore.training.chain_outcomes import setting_grid

    grid = setting_grid()
    assert grid.count(DEFAULT_CHAIN) == 1
    assert grid.count(ChainParams()) == 1
    assert len(set(grid)) == len(grid)
    assert sum(p.line_sensitivity == p.denoise_strength == p.colour_strength == p.sharpen_strength == 0
               for p in grid) == 1


def test_chain_default_reports_the_robust_choice_from_files(tmp_path):
    from artrestore.training import chain_default
    from artrestore.training.chain_outcomes import save_outcomes

    seen = outcomes({"identity": [0.0] * 14, "bold": [2.0] * 12 + [0, 0], "gentle": [0.4] * 12 + [0, 0]}, SEV)
    other = outcomes({"identity": [0.0] * 14, "bold": [-1.0] * 4 + [2.0] * 8 + [0, 0],
                      "gentle": [0.2] * 12 + [0, 0]}, SEV)
    paths = {}
    for name, data in (("broad", seen), ("proxy", other)):
        data["record"] = {"damage": name}
        paths[name] = save_outcomes(data, tmp_path / f"{name}.npz")
    report = chain_default.report(paths)
    assert report["chosen"]["index"] == 2
    assert report["chosen"]["proxy"]["table"]["light"]["mean_gain_db"] == pytest.approx(0.2)
    assert report["chosen"]["broad"]["score"] == pytest.approx(0.4)


def test_the_router_is_never_fitted_on_the_proxy_family():
    proxy = dict(outcomes({"identity": [0.0] * 14}, SEV), record={"damage": "proxy"})
    broad = dict(outcomes({"identity": [0.0] * 14}, SEV), record={"damage": "broad"})
    chain_fit.refuse_choosing_only([broad])
    with pytest.raises(ValueError, match="choosing only"):
        chain_fit.refuse_choosing_only([broad, proxy])
