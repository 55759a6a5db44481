"""benchmarks/colour_head_probe.py: the map's parameterisation against NumPy worked here (identity at
strength 0, an affine cast recovered and undone), the feature vector, and the proxy family refused
as a training input."""
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import colour_head_probe  # noqa: E402


def _clean(seed=0):
    import cv2

    noise = np.random.default_rng(seed).integers(40, 216, (96, 128, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 1.0)


def test_strength_zero_is_the_identity_and_an_affine_cast_is_undone():
    clean = _clean()
    np.testing.assert_array_equal(colour_head_probe.apply_map(clean, np.ones((4, 3)), 0.0), clean)
    gains, offset = np.array([0.8, 0.9, 0.6]), np.array([30.0, 10.0, 50.0])
    cast = np.clip(clean * gains + offset, 0, 255).round().astype(np.uint8)
    coefficients = colour_head_probe.oracle_map(cast, clean)
    # Per-channel inverse: clean = (cast - offset) / gains, in levels / 255.
    np.testing.assert_allclose(np.diag(coefficients[:3]), 1 / gains, rtol=0.02)
    np.testing.assert_allclose(coefficients[3], -offset / gains / 255, atol=0.01)
    restored = colour_head_probe.apply_map(cast, coefficients, 1.0)
    assert np.abs(restored.astype(int) - clean).mean() < 1.0


def test_features_are_fixed_length_and_finite_even_for_a_flat_image():
    f = colour_head_probe.features(_clean(1))
    assert f.shape == (len(colour_head_probe.PERCENTILES) * 3 + 9,)
    flat = colour_head_probe.features(np.full((40, 50, 3), 128, np.uint8))
    assert np.isfinite(flat).all()


def test_the_proxy_family_is_never_a_training_input(tmp_path):
    with pytest.raises(SystemExit):
        colour_head_probe.main(["--clean", str(tmp_path), "--train-families", "broad", "proxy",
                                "--out", str(tmp_path / "x.json")])
