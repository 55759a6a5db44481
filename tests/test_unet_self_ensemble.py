"""benchmarks/unet_self_ensemble.py's transforms: each of the eight is undone exactly by its
inverse, they are eight different views of a non-symmetric image, and a transform-equivariant
restorer (here a per-pixel function) gives the same result through every one of them."""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import unet_self_ensemble as ens  # noqa: E402


def test_every_transform_is_undone_and_all_eight_differ():
    image = np.arange(5 * 7 * 3, dtype=np.float32).reshape(5, 7, 3)
    views = [ens.forward(image, t, m) for t, m in ens.TRANSFORMS]
    assert len({v.tobytes() + bytes(v.shape) for v in views}) == 8
    for (t, m), view in zip(ens.TRANSFORMS, views):
        np.testing.assert_array_equal(ens.inverse(view, t, m), image)
    # A quarter turn of a 5 x 7 image is 7 x 5, as np.rot90 counts it.
    assert ens.forward(image, 1, False).shape == (7, 5, 3)
    np.testing.assert_array_equal(ens.forward(image, 0, True), image[:, ::-1])


def test_a_pointwise_restorer_is_unchanged_by_the_ensemble():
    rng = np.random.default_rng(0)
    image = rng.random((6, 9, 3)).astype(np.float32)
    outs = [ens.inverse(np.sqrt(ens.forward(image, t, m)), t, m) for t, m in ens.TRANSFORMS]
    np.testing.assert_allclose(np.mean(outs, axis=0), np.sqrt(image), rtol=1e-6)
