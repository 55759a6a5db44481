"""dl.hold: the global colour change is found and partly taken back (local repairs stay); the whole
change is blended back by its share; the metadata's shares are read and checked."""
import json

import cv2
import numpy as np
import pytest

from artrestore.dl.contract import BUNDLED_UNET
from artrestore.dl.hold import (
    CHANGE_KEEP_KEY,
    COLOUR_KEEP_KEY,
    global_colour_change,
    hold_change,
    hold_colour,
    read_shares,
    shares_key,
)


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
    for hold in (hold_colour, hold_change):
        with pytest.raises(ValueError, match=message):
            hold(before, after, keep)


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.8, 1.0])
def test_hold_change_is_the_linear_blend(keep):
    before, after = _image(5), _image(6)
    expected = np.clip(np.rint(before * (1 - keep) + after * keep), 0, 255)  # float64 reference
    assert np.abs(hold_change(before, after, keep).astype(int) - expected).max() <= 1


def test_the_bundled_unet_records_valid_shares():
    shares = read_shares()
    assert set(shares) == {COLOUR_KEEP_KEY, CHANGE_KEEP_KEY}
    for per_class in shares.values():
        assert set(per_class) <= {"light", "moderate", "severe"}
        assert all(0.0 <= v <= 1.0 for v in per_class.values())


@pytest.mark.parametrize("key", [COLOUR_KEEP_KEY, CHANGE_KEEP_KEY])
@pytest.mark.parametrize("bad", [{"light": 1.7}, {"light": True}, [0.5]])
def test_a_malformed_entry_is_refused_by_name(tmp_path, key, bad):
    metadata = json.loads((BUNDLED_UNET / "model_metadata.json").read_text())
    metadata[key] = bad
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=key):
        read_shares(tmp_path)


def test_a_model_without_shares_keeps_everything(tmp_path):
    metadata = json.loads((BUNDLED_UNET / "model_metadata.json").read_text())
    for key in (COLOUR_KEEP_KEY, CHANGE_KEEP_KEY):
        metadata.pop(key, None)
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata))
    assert read_shares(tmp_path) == {COLOUR_KEEP_KEY: {}, CHANGE_KEEP_KEY: {}}


def test_a_self_ensemble_reads_its_own_shares_and_else_the_one_pass_ones(tmp_path):
    metadata = json.loads((BUNDLED_UNET / "model_metadata.json").read_text())
    for key in (COLOUR_KEEP_KEY, CHANGE_KEEP_KEY):
        metadata.pop(key, None)
        metadata.pop(shares_key(key, 8), None)
    metadata[CHANGE_KEEP_KEY] = {"light": 0.5, "moderate": 0.9, "severe": 0.9}
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata))
    one_pass = {COLOUR_KEEP_KEY: {}, CHANGE_KEEP_KEY: {"light": 0.5, "moderate": 0.9, "severe": 0.9}}
    assert read_shares(tmp_path, 8) == one_pass  # none recorded for eight views
    metadata["change_keep_x8"] = {"light": 0.7, "moderate": 1.0, "severe": 1.0}
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata))
    assert read_shares(tmp_path, 8) == {COLOUR_KEEP_KEY: {}, CHANGE_KEEP_KEY: {"light": 0.7, "moderate": 1.0,
                                                                               "severe": 1.0}}
    assert read_shares(tmp_path, 1) == one_pass and read_shares(tmp_path, 2) == one_pass
    metadata["colour_keep_x8"] = {"light": 2}
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=COLOUR_KEEP_KEY):
        read_shares(tmp_path, 8)
