"""benchmarks/colour_share_probe.py: the oracle global colour map undoes an affine colour transform
worked out here, leaves a clean image as it is, and cannot undo local damage."""
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import colour_share_probe  # noqa: E402


def _clean(seed=0):
    return np.random.default_rng(seed).integers(40, 216, (48, 64, 3)).astype(np.uint8)


def test_an_affine_cast_is_undone_and_a_clean_image_kept():
    clean = _clean()
    matrix = np.array([[0.8, 0.1, 0.0], [0.05, 0.7, 0.1], [0.0, 0.1, 0.6]])
    cast = np.clip(clean.astype(float) @ matrix.T + [20, 10, 40], 0, 255).round().astype(np.uint8)
    restored = colour_share_probe.oracle_colour(cast, clean)
    assert np.abs(restored.astype(int) - clean).max() <= 2  # rounding of the cast image only
    np.testing.assert_array_equal(colour_share_probe.oracle_colour(clean, clean), clean)


def test_local_damage_is_not_removed():
    clean = _clean(1)
    scratched = clean.copy()
    scratched[20:23, :] = 255
    mapped = colour_share_probe.oracle_colour(scratched, clean)
    assert np.abs(mapped[20:23].astype(int) - clean[20:23]).mean() > 30
