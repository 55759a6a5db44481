"""Tiled inference and the whole-image thumbnail (pure NumPy: no TensorFlow needed)."""
import numpy as np

from artrestore.dl.tiling import blend_window, make_context, tiled_predict


def test_blending_reproduces_the_image_exactly_under_identity():
    rng = np.random.default_rng(0)
    for shape in [(600, 700, 3), (256, 256, 3), (100, 37, 3), (513, 257, 3)]:
        image = rng.random(shape, dtype=np.float32)
        calls = []
        out = tiled_predict(image, lambda t: (calls.append(len(t)), t)[1], batch_size=4)
        np.testing.assert_allclose(out, image, atol=1e-6)
        assert all(n == calls[0] for n in calls), "batches must have one fixed size"


def test_window_is_positive_and_smooth():
    w = blend_window()[:, :, 0]
    assert w.min() > 0 and w.max() == 1
    assert np.abs(np.diff(w[128])).max() < 0.06


def test_context_is_the_area_average_thumbnail():
    image = np.zeros((512, 1024, 3), np.float32)
    image[:, 512:] = 1.0  # right half white
    thumb = make_context(image)
    assert thumb.shape == (128, 128, 3)
    np.testing.assert_allclose(thumb[:, :64], 0.0)
    np.testing.assert_allclose(thumb[:, 64:], 1.0)
