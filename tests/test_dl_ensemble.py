"""dl.ensemble: the eight dihedral views are undone exactly, the ensemble of an equivariant
restorer is that restorer, and for a restorer that is not, the result equals a reference built
from flips and transposes (not the module's rotations)."""
import threading

import numpy as np
import pytest

from artrestore.dl.ensemble import DEFAULT_VIEWS, TRANSFORMS, VIEWS, SelfEnsemble, check_views, forward, inverse


def test_every_view_is_undone_and_all_eight_differ():
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    views = [forward(image, t, m) for t, m in TRANSFORMS]
    assert len({v.tobytes() + bytes(v.shape) for v in views}) == 8
    for (t, m), view in zip(TRANSFORMS, views):
        assert view.flags.c_contiguous
        np.testing.assert_array_equal(inverse(view, t, m), image)
    assert forward(image, 1, False).shape == (7, 5, 3)  # a quarter turn of 5 x 7 is 7 x 5
    np.testing.assert_array_equal(forward(image, 0, True), image[:, ::-1])


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_each_view_is_numpys_rotation_then_mirror(transform):
    turns, mirror = transform
    image = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    expected = np.rot90(image, turns)
    expected = expected[:, ::-1] if mirror else expected
    view = forward(image, turns, mirror)
    np.testing.assert_array_equal(view, expected)
    assert not np.shares_memory(view, image) and not np.shares_memory(inverse(view, turns, mirror), view)


def test_a_strided_input_and_the_rounded_mean_of_views_that_differ():
    """A non-contiguous slice is accepted; views giving 7 x 10 and 1 x 11 average to 10.125 -> 10,
    views giving 4 x 10 and 4 x 11 (10.5) round half up to 11."""
    image = np.full((12, 16, 3), 50, np.uint8)[::2, ::2]
    for odd_count, expected in ((1, 10), (4, 11)):
        state = {"n": 0, "lock": threading.Lock()}

        def restore(view, odd_count=odd_count, state=state):
            with state["lock"]:
                state["n"] += 1
                value = 11 if state["n"] <= odd_count else 10
            return np.full(view.shape, value, np.uint8)

        out = SelfEnsemble(Calls(restore), 8).restore(image)
        assert out.shape == image.shape and np.all(out == expected)


class Calls:
    """Counts calls (from any thread) to a restore function."""

    def __init__(self, fn):
        self.fn, self.count, self.lock = fn, 0, threading.Lock()

    def restore(self, image):
        with self.lock:
            self.count += 1
        return self.fn(image)


def test_a_pointwise_restorer_is_unchanged_and_runs_once_per_view():
    image = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    lut = (255 * np.sqrt(np.arange(256) / 255)).astype(np.uint8)
    backend = Calls(lambda x: lut[x])
    out = SelfEnsemble(backend, 8).restore(image)
    np.testing.assert_array_equal(out, lut[image])
    assert backend.count == 8 and out.dtype == np.uint8 and out.shape == image.shape


def _brighten_top_left(image):
    """Not equivariant: +40 on the top-left quarter of whatever view it is given."""
    out = image.astype(np.int16)
    h, w = out.shape[:2]
    out[: h // 2, : w // 2] += 40
    return np.clip(out, 0, 255).astype(np.uint8)


def _reference(image, fn, views):
    """The mean over the dihedral group written with flips and transposes (inverse of each listed)."""
    def t(x):
        return np.ascontiguousarray(x.transpose(1, 0, 2))

    group = [(lambda x: x, lambda y: y), (lambda x: x[:, ::-1], lambda y: y[:, ::-1]),
             (lambda x: x[::-1], lambda y: y[::-1]), (lambda x: x[::-1, ::-1], lambda y: y[::-1, ::-1]),
             (t, t), (lambda x: t(x)[:, ::-1], lambda y: t(y[:, ::-1])),
             (lambda x: t(x)[::-1], lambda y: t(y[::-1])), (lambda x: t(x)[::-1, ::-1], lambda y: t(y[::-1, ::-1]))]
    if views == 2:
        group = group[:2]
    outs = [undo(fn(np.ascontiguousarray(do(image)))).astype(np.float64) for do, undo in group]
    return np.mean(outs, axis=0)


@pytest.mark.parametrize("views", [2, 8])
@pytest.mark.parametrize("shape", [(8, 8, 3), (6, 10, 3)])
def test_a_position_dependent_restorer_matches_the_flip_and_transpose_reference(views, shape):
    image = np.full(shape, 100, np.uint8)
    out = SelfEnsemble(Calls(_brighten_top_left), views).restore(image)
    expected = _reference(image, _brighten_top_left, views)
    assert np.abs(out.astype(float) - expected).max() <= 0.5  # the rounded mean
    # Eight views spread the brightening over every quarter: 40 / 4 on average.
    if views == 8:
        assert out.astype(float).mean() == pytest.approx(100 + 10, abs=0.5)


def test_one_view_is_the_backend_itself():
    image = np.random.default_rng(1).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    backend = Calls(_brighten_top_left)
    np.testing.assert_array_equal(SelfEnsemble(backend, 1).restore(image), _brighten_top_left(image))
    assert backend.count == 1


@pytest.mark.parametrize("bad", [0, 3, 16, True, "8", 2.0, None])
def test_other_view_counts_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="views must be one of"):
        check_views(bad)
    with pytest.raises(ValueError, match="views must be one of"):
        SelfEnsemble(Calls(lambda x: x), bad)


def test_the_served_graph_offers_the_served_default_and_only_allowed_counts():
    from artrestore.dl.contract import SERVED_VIEWS

    assert DEFAULT_VIEWS["accelerated"] in SERVED_VIEWS and set(SERVED_VIEWS) <= set(VIEWS) - {1}


def test_the_defaults_are_allowed_counts_per_deployment_profile():
    from artrestore.decision import PROFILES

    assert set(DEFAULT_VIEWS) == set(PROFILES) and all(v in VIEWS for v in DEFAULT_VIEWS.values())


def test_a_failing_backend_fails_the_ensemble():
    from artrestore.errors import DeepLearningUnavailable

    def fail(image):
        raise DeepLearningUnavailable("server down")

    with pytest.raises(DeepLearningUnavailable, match="server down"):
        SelfEnsemble(Calls(fail), 8).restore(np.zeros((4, 4, 3), np.uint8))


class Averaging(Calls):
    """A backend that can average the views itself (as a served model with an x8 signature)."""

    def __init__(self, fn, offers):
        super().__init__(fn)
        self.offers, self.asked = offers, []

    def with_views(self, views):
        self.asked.append(views)
        return Calls(lambda x: np.full_like(x, 7)) if views in self.offers else None


def test_a_backend_that_averages_the_views_itself_is_used_once_asked():
    image = np.random.default_rng(2).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    backend = Averaging(_brighten_top_left, offers=(8,))
    ensemble = SelfEnsemble(backend, 8)
    assert ensemble.turned_by is None  # not asked yet
    for _ in range(3):
        np.testing.assert_array_equal(ensemble.restore(image), np.full_like(image, 7))
    assert backend.asked == [8] and backend.count == 0  # asked once; the views never turned here
    assert ensemble.turned_by == "backend"


def test_without_the_offer_the_views_are_turned_here():
    image = np.full((8, 8, 3), 100, np.uint8)
    backend = Averaging(_brighten_top_left, offers=(8,))
    ensemble = SelfEnsemble(backend, 2)
    out = ensemble.restore(image)
    assert backend.asked == [2] and backend.count == 2 and ensemble.turned_by == "ensemble"
    assert np.abs(out.astype(float) - _reference(image, _brighten_top_left, 2)).max() <= 0.5


def test_a_failing_offer_is_asked_again_next_time():
    from artrestore.errors import DeepLearningUnavailable

    class Flaky(Calls):
        tries = 0

        def with_views(self, views):
            Flaky.tries += 1
            if Flaky.tries == 1:
                raise DeepLearningUnavailable("model server: UNAVAILABLE")
            return None

    ensemble = SelfEnsemble(Flaky(_brighten_top_left), 8)
    image = np.full((4, 4, 3), 50, np.uint8)
    with pytest.raises(DeepLearningUnavailable):
        ensemble.restore(image)
    assert ensemble.restore(image).shape == image.shape and Flaky.tries == 2
