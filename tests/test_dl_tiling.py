"""Tiled inference and the whole-image thumbnail (pure NumPy: no TensorFlow needed)."""
import numpy as np
import pytest

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


def test_area_weights_reproduce_opencvs_inter_area_thumbnail():
    # Independent reference: cv2.resize(INTER_AREA) through make_context, for square, odd,
    # non-integer-ratio and padded shapes (the padded rows/columns must get zero weight).
    from artrestore.dl.tiling import area_weights

    rng = np.random.default_rng(3)
    for h, w, pad_h, pad_w in [(1024, 1024, 0, 0), (1000, 777, 24, 55), (128, 300, 0, 20), (513, 129, 63, 0)]:
        image = rng.random((h, w, 3), dtype=np.float32)
        padded = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
        got = np.einsum("oh,hwc,pw->opc", area_weights(h, padded=h + pad_h), padded, area_weights(w, padded=w + pad_w),
                        optimize=True)
        np.testing.assert_allclose(got, make_context(image), atol=2e-6)


def test_area_weights_refuse_to_enlarge():
    import pytest

    from artrestore.dl.tiling import area_weights

    with pytest.raises(ValueError, match="shrink only"):
        area_weights(100)


def test_budgeted_passes_batch_tiles_and_blend_back_the_image():
    from artrestore.dl.tiling import plan_tiles, tiled_run

    rng = np.random.default_rng(4)
    image = rng.random((700, 900, 3), dtype=np.float32)
    budget = 320 * 320
    (th, tw), rows, cols = plan_tiles(700, 900, budget)
    for batch_size in (1, 3, 64):
        calls = []
        out = tiled_run(image, lambda t: (calls.append(t.shape), t)[1], max_pixels=budget, batch_size=batch_size)
        np.testing.assert_allclose(out, image, atol=1e-6)
        assert sum(s[0] for s in calls) == len(rows) * len(cols)
        assert max(s[0] for s in calls) == min(batch_size, len(rows) * len(cols))
        assert all(s[1:3] == (th, tw) and s[1] * s[2] <= budget for s in calls)
    # Within the budget: one pass over the whole (padded) image, uint8 stays uint8.
    small = (rng.random((300, 410, 3)) * 255).astype(np.uint8)
    seen = []
    out = tiled_run(small, lambda t: (seen.append((t.shape, t.dtype)), t)[1], max_pixels=budget * 4)
    assert seen == [((1, 304, 416, 3), np.uint8)] and np.array_equal(out, small)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_pad_to_mirrors_like_numpy_and_repeats_the_edge_when_too_short(dtype):
    from artrestore.dl.tiling import pad_to

    image = (np.random.default_rng(4).random((20, 30, 3)) * 255).astype(dtype)
    np.testing.assert_array_equal(pad_to(image, 32, 48), np.pad(image, ((0, 12), (0, 18), (0, 0)), mode="reflect"))
    np.testing.assert_array_equal(pad_to(image, 64, 48), np.pad(image, ((0, 44), (0, 18), (0, 0)), mode="edge"))
    assert pad_to(image, 20, 30) is image
