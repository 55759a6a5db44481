"""dl.colour_hold: the global colour change is found and partly taken back; local repairs stay."""
import cv2
import numpy as np
import pytest

from artrestore.dl.colour_hold import global_colour_change, hold_colour


def _image(seed=0, size=(96, 128)):
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 190, (12, 16, 3)).astype(np.uint8)  # no clipping under the test casts
    return cv2.resize(small, size[::-1], interpolation=cv2.INTER_CUBIC)


def _affine(image, gain, offset):
    return np.clip(np.rint(image.astype(np.float64) * gain + offset), 0, 255).astype(np.uint8)


def test_global_change_matches_a_numpy_least_squares_fit():
    before = _image()
    after = _affine(before, [1.1, 0.9, 1.0], [-8.0, 12.0, 3.0])
    gain, offset = global_colour_change(before, after)
    # The reference: np.polyfit on the same area thumbnail the module fits on (128 px: unchanged here).
    x, y = before.reshape(-1, 3).astype(float), after.reshape(-1, 3).astype(float)
    for c in range(3):
        ref_gain, ref_offset = np.polyfit(x[:, c], y[:, c], 1)
        assert gain[c] == pytest.approx(ref_gain, abs=1e-9)
        assert offset[c] == pytest.approx(ref_offset, abs=1e-6)
    assert gain == pytest.approx([1.1, 0.9, 1.0], abs=0.01)


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.75])
def test_a_pure_colour_change_is_taken_back_by_its_share(keep):
    before = _image(1)
    gain, offset = np.array([1.2, 0.85, 1.05]), np.array([-10.0, 15.0, 0.0])
    after = _affine(before, gain, offset)
    expected = _affine(before, 1 + keep * (gain - 1), keep * offset)
    held = hold_colour(before, after, keep)
    assert np.abs(held.astype(int) - expected).max() <= 2  # rounding of the affine output


def test_keep_one_returns_the_output_untouched():
    before, after = _image(2), _image(3)
    assert hold_colour(before, after, 1.0) is after


def test_a_local_repair_survives_while_the_cast_goes():
    before = _image(4)
    repaired = before.copy()
    repaired[40:44, 10:100] = 200  # a local change (a filled scratch) on a few per cent of the pixels
    after = _affine(repaired, [1.0, 1.0, 1.0], [0.0, 0.0, 20.0])  # plus a global blue shift
    held = hold_colour(before, after, 0.0)
    assert np.abs(held[..., 2].astype(int) - repaired[..., 2]).mean() < 3  # the shift is gone
    assert np.abs(held[40:44, 10:100].astype(int) - 200).mean() < 12  # the repair stays


@pytest.mark.parametrize("before,after,keep,message", [
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), 0.5, "one shape"),
    (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 3), np.float32), 0.5, "uint8"),
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), 1.5, "keep"),
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), float("nan"), "keep"),
])
def test_bad_arguments_are_refused_by_name(before, after, keep, message):
    with pytest.raises(ValueError, match=message):
        hold_colour(before, after, keep)
