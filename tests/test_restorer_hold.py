"""HybridRestorer + dl.hold: the U-Net path takes back the recorded shares of the network's change,
per the decision's severity, and says how much it kept."""
import numpy as np
import pytest

from artrestore import HybridRestorer
from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY


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
    restorer._hold_shares = {COLOUR_KEEP_KEY: dict.fromkeys(("light", "moderate", "severe"), keep), CHANGE_KEEP_KEY: {}}
    image = _photo(astronaut)
    restored, info = restorer.restore(image, strategy="deep_learning")
    assert info["method"] == "deep_learning" and info["params"][COLOUR_KEEP_KEY] == pytest.approx(keep)
    assert info["params"][CHANGE_KEEP_KEY] == 1.0
    rows = np.r_[0:20, 23:image.shape[0]]  # away from the repaired stripe
    shift = restored[rows, :, 2].astype(float) - image[rows, :, 2]
    assert shift.mean() == pytest.approx(blue_shift, abs=1.5)
    # Red had no cast: only the stripe's pull on the fit moves it, by rounding-sized amounts.
    assert np.abs(restored[rows, :, 0].astype(int) - image[rows, :, 0]).max() <= 2


def test_the_share_follows_the_decisions_severity_probabilities(restorer, astronaut):
    restorer._hold_shares = {COLOUR_KEEP_KEY: {"light": 0.0, "moderate": 1.0, "severe": 1.0}, CHANGE_KEEP_KEY: {}}
    restored, info = restorer.restore(_photo(astronaut), strategy="deep_learning")
    probability = info["decision"]["severity_probability"]
    expected = (probability["moderate"] + probability["severe"]) / sum(probability.values())
    assert info["params"][COLOUR_KEEP_KEY] == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("keep", [0.0, 0.5])
def test_the_whole_change_is_blended_back_by_its_share(restorer, astronaut, keep):
    restorer._hold_shares = {COLOUR_KEEP_KEY: {}, CHANGE_KEEP_KEY: dict.fromkeys(("light", "moderate", "severe"), keep)}
    image = _photo(astronaut)
    restored, info = restorer.restore(image, strategy="deep_learning")
    expected = image + keep * (BlueCastUNet().restore(image).astype(float) - image)  # NumPy reference
    assert np.abs(restored - np.rint(expected)).max() <= 1
    assert info["params"][CHANGE_KEEP_KEY] == pytest.approx(keep)


def test_the_views_default_per_deployment_and_reach_the_backend_and_info(astronaut):
    from artrestore.dl.ensemble import SelfEnsemble

    assert HybridRestorer(use_dl=True).dl_views == 1
    assert HybridRestorer(use_dl=True, dl_backend="grpc://localhost:1").dl_views == 8
    r = HybridRestorer(use_dl=True, dl_views=2)
    r._dl = SelfEnsemble(BlueCastUNet(), r.dl_views)
    r._hold_shares = {COLOUR_KEEP_KEY: {}, CHANGE_KEEP_KEY: {}}
    image = _photo(astronaut)
    restored, info = r.restore(image, strategy="deep_learning")
    assert info["params"]["views"] == 2
    # The stand-in's stripe is a row band: mirrored left-right it stays, so the mean keeps it.
    np.testing.assert_array_equal(restored, BlueCastUNet().restore(image))
    with pytest.raises(ValueError, match="views must be one of"):
        HybridRestorer(use_dl=True, dl_views=4)
