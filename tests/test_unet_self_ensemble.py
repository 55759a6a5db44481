"""benchmarks/unet_self_ensemble.py: the views' spread figures (rank correlation, harmed vs helped)."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import unet_self_ensemble  # noqa: E402


def test_spread_figures_on_a_hand_made_case():
    spread = np.array([1.0, 2.0, 3.0, 4.0])
    gain = np.array([0.5, 0.2, -0.1, -0.4])  # the more the views disagree, the lower the gain
    figures = unet_self_ensemble._spread_figures(spread, gain, gain[::-1])
    assert figures["spearman_with_gain_x1"] == pytest.approx(-1.0)
    assert figures["spearman_with_gain_x8"] == pytest.approx(1.0)
    assert figures["mean_grey_levels"] == pytest.approx(2.5)
    assert figures["harmed_x1"] == 2
    assert figures["spread_harmed_vs_helped_x1"] == [pytest.approx(3.5), pytest.approx(1.5)]


def test_spread_figures_without_a_harmed_image():
    figures = unet_self_ensemble._spread_figures(np.array([1.0, 2.0, 4.0]), np.array([0.1, 0.3, 0.2]),
                                                 np.array([0.1, 0.3, 0.2]))
    assert figures["harmed_x1"] == 0 and figures["spread_harmed_vs_helped_x1"][0] is None
    assert figures["spearman_with_gain_x1"] == pytest.approx(0.5)
