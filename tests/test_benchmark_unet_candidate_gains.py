"""benchmarks/unet_candidate_gains.py: paired gains and their standard error over sources, checked
against sums worked out here; reports on different images are refused."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import unet_candidate_gains  # noqa: E402


def _rows(sources, held, names=None):
    names = names or sources
    return [{"source": n, "level": "light", "input_psnr": 20.0 + i, "held_psnr": h}
            for i, (n, h) in enumerate(zip(names, held))]


def test_gain_and_standard_error_over_sources():
    sources = [0, 0, 1, 1, 2, 2]
    ref = _rows(sources, [20.0] * 6, ["a", "a", "b", "b", "c", "c"])  # named by path, as run 10's report
    cand = _rows(sources, [21.0, 21.0, 20.0, 20.0, 20.5, 20.5])  # per-source means +1, 0, +0.5
    result = unet_candidate_gains.paired_gains(cand, ref, "light")
    assert result["gain_db"] == pytest.approx(0.5)
    # per-source means 1, 0, 0.5: sample sd 0.5, SE 0.5 / sqrt(3)
    assert result["se_db"] == pytest.approx(0.5 / 3 ** 0.5)
    assert (result["images"], result["sources"]) == (6, 3)


def test_different_images_are_refused():
    ref = _rows([0, 0, 1, 1], [20.0] * 4)
    with pytest.raises(ValueError, match="different images"):
        unet_candidate_gains.paired_gains(_rows([0, 1, 1, 1], [20.0] * 4), ref, "light")
    other_draw = _rows([0, 0, 1, 1], [20.0] * 4)
    other_draw[2]["input_psnr"] += 0.5
    with pytest.raises(ValueError, match="different images"):
        unet_candidate_gains.paired_gains(other_draw, ref, "light")
