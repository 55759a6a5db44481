"""HybridRestorer + dl.colour_hold: the U-Net path takes back the recorded share of the network's
global colour change, per the decision's severity, and says how much it kept."""
import json
import shutil

import numpy as np
import pytest

from artrestore import HybridRestorer
from artrestore.dl.colour_hold import COLOUR_KEEP_KEY, read_colour_keep
from artrestore.dl.contract import BUNDLED_UNET


class BlueCastUNet:
    """A stand-in backend: the input with a global +30 blue cast and one repaired stripe."""

    def restore(self, image):
        out = image.astype(np.int16)
        out[..., 2] += 30
        out[20:23, :] = 128
        return np.clip(out, 0, 255).astype(np.uint8)


@pytest.fixture()
def restorer():
    r = HybridRestorer(use_dl=True)
    r._dl = BlueCastUNet()
    return r


def _photo(astronaut):
    return np.ascontiguousarray(astronaut[::4, ::4] // 2 + 40)  # 128 px, no clipping under the cast


@pytest.mark.parametrize("keep,blue_shift", [(0.0, 0.0), (0.5, 15.0), (1.0, 30.0)])
def test_the_kept_share_of_the_cast_is_what_remains(restorer, astronaut, keep, blue_shift):
    restorer._keep_by_class = dict.fromkeys(("light", "moderate", "severe"), keep)
    image = _photo(astronaut)
    restored, info = restorer.restore(image, strategy="deep_learning")
    assert info["method"] == "deep_learning" and info["params"]["colour_keep"] == pytest.approx(keep)
    rows = np.r_[0:20, 23:image.shape[0]]  # away from the repaired stripe
    shift = restored[rows, :, 2].astype(float) - image[rows, :, 2]
    assert shift.mean() == pytest.approx(blue_shift, abs=1.5)
    # Red had no cast: only the stripe's pull on the fit moves it, by rounding-sized amounts.
    assert np.abs(restored[rows, :, 0].astype(int) - image[rows, :, 0]).max() <= 2


def test_the_share_follows_the_decisions_severity_probabilities(restorer, astronaut):
    restorer._keep_by_class = {"light": 0.0, "moderate": 1.0, "severe": 1.0}
    restored, info = restorer.restore(_photo(astronaut), strategy="deep_learning")
    probability = info["decision"]["severity_probability"]
    expected = (probability["moderate"] + probability["severe"]) / sum(probability.values())
    assert info["params"]["colour_keep"] == pytest.approx(expected, abs=2e-3)


def test_the_bundled_unet_records_valid_shares():
    shares = read_colour_keep()
    assert set(shares) <= {"light", "moderate", "severe"}
    assert all(0.0 <= v <= 1.0 for v in shares.values())


def test_a_malformed_entry_is_refused_by_name(tmp_path):
    folder = tmp_path / "unet"
    folder.mkdir()
    metadata = json.loads((BUNDLED_UNET / "model_metadata.json").read_text())
    shutil.copy(BUNDLED_UNET / "model_metadata.json", folder / "model_metadata.json")
    assert read_colour_keep(folder) == read_colour_keep()
    metadata[COLOUR_KEEP_KEY] = {"light": 1.7}
    (folder / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=COLOUR_KEEP_KEY):
        read_colour_keep(folder)
