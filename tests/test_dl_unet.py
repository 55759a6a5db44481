"""The U-Net network, its weights files and in-process inference (dl.arch, dl.weights, dl.inference)."""
import shutil

import numpy as np
import pytest

from artrestore import metrics
from artrestore.training.synthesis import synthesize_damage

tf = pytest.importorskip("tensorflow", reason="the DL path needs the [dl] extra (TensorFlow)")

from artrestore.dl.arch import build_unet
from artrestore.dl.contract import BUNDLED_UNET, UNetConfig
from artrestore.dl.inference import UNetRestorer
from artrestore.dl.weights import load_model
from artrestore.training.unet_train import transfer_weights


@pytest.fixture(scope="module")
def shipped():
    return UNetRestorer()


@pytest.mark.dl
def test_shipped_model_improves_a_severe_image_it_never_saw(shipped, astronaut):
    # astronaut is not among the training images (those come from ../shared/data/clean); at 512 px
    # it is at the scale the model was trained on.
    clean = astronaut
    damaged, _ = synthesize_damage(clean, "severe", seed=11)
    restored = shipped.restore(damaged)
    assert restored.shape == damaged.shape and restored.dtype == np.uint8
    assert metrics.psnr(restored, clean) > metrics.psnr(damaged, clean) + 2.0


@pytest.mark.dl
def test_smooth_image_has_no_tile_seams():
    # A pass budget far below the image forces budgeted tiles (dl.tiling.tiled_run): their borders
    # must not stand out; the column-to-column jump there stays within the image's own variation.
    from artrestore.dl.tiling import OVERLAP, plan_tiles

    y, x = np.mgrid[0:600, 0:700].astype(np.float32)
    smooth = np.stack([90 + 60 * np.sin(x / 150), 100 + 50 * np.cos(y / 170), 120 + 0.05 * (x + y)], axis=2)
    smooth = np.clip(smooth, 0, 255).astype(np.uint8)
    budget = 320 * 320
    restorer = UNetRestorer(max_pass_pixels=budget)
    out = restorer.restore(smooth).astype(np.float32)
    _, _, cols = plan_tiles(600, 700, budget)
    assert len(cols) >= 3
    jumps = np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))
    seams = [c + OVERLAP // 2 for c in cols[1:]]  # centres of the blended overlaps
    assert max(jumps[s] for s in seams) < np.percentile(jumps, 99) + 0.5


@pytest.mark.dl
def test_reduced_precision_keeps_the_weights_and_the_quality(shipped, astronaut):
    # fp16 / bf16 compute (Keras mixed policies) against the fp32 model on the same damaged image:
    # float32 weights, float32 output, PSNR to the clean image within 0.05 dB for fp16 (the GPU
    # default's limit) and 0.1 dB for bf16 (8 mantissa bits to fp16's 11: run 10 moves 0.06 dB).
    damaged, _ = synthesize_damage(astronaut, "moderate", seed=12)
    reference = metrics.psnr(shipped.restore(damaged), astronaut)
    for precision, limit_db in (("fp16", 0.05), ("bf16", 0.1)):
        reduced = UNetRestorer(precision=precision)
        assert reduced.precision == precision
        assert [w.dtype for w in reduced.model.get_weights()] == [w.dtype for w in shipped.model.get_weights()]
        tile = damaged[None, :256, :256].astype(np.float32) / 255
        out = reduced.predict_tiles(tile, np.zeros((128, 128, 3), np.float32))
        assert out.dtype == np.float32 and out.shape == tile.shape
        assert abs(metrics.psnr(reduced.restore(damaged), astronaut) - reference) < limit_db
    with pytest.raises(ValueError, match="precision"):
        UNetRestorer(precision="int4")


@pytest.mark.dl
def test_one_pass_within_the_budget_and_tiles_beyond_it(astronaut):
    image = astronaut[:400, :480]
    whole = UNetRestorer(max_pass_pixels=512 * 512)
    whole.restore(image)
    assert whole._batcher.batches_run == 1
    tiled = UNetRestorer(max_pass_pixels=200 * 200, batch_size=2)
    tiled.restore(image)
    from artrestore.dl.tiling import plan_tiles

    _, rows, cols = plan_tiles(400, 480, 200 * 200)
    assert tiled._batcher.batches_run == -(-len(rows) * len(cols) // 2)


@pytest.mark.dl
def test_concurrent_images_of_one_shape_share_passes(astronaut):
    # The batch runner's threads: same-shape images meet in one model call, and each gets exactly
    # what it would have got alone.
    import threading

    restorer = UNetRestorer(batch_size=4, batch_timeout_ms=300)
    images = [np.ascontiguousarray(np.roll(astronaut[:192, :256], 20 * k, axis=1)) for k in range(4)]
    alone = [restorer.restore(image) for image in images]
    before = restorer._batcher.batches_run
    together = [None] * 4
    threads = [threading.Thread(target=lambda k=k: together.__setitem__(k, restorer.restore(images[k])))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert restorer._batcher.batches_run - before < 4
    for got, want in zip(together, alone):
        assert np.abs(got.astype(int) - want).max() <= 1


@pytest.mark.dl
def test_global_branch_starts_as_the_plain_unet_and_then_reads_the_whole_image():
    # Warm start: a plain U-Net's weights in a global-context model give the same output (the
    # colour transform starts at identity, the bottleneck vector at zero), whatever the thumbnail.
    plain = build_unet(UNetConfig(base_filters=8, depth=3))
    context_model = build_unet(UNetConfig(base_filters=8, depth=3, global_context=True))
    assert transfer_weights(plain, context_model) == len([l for l in plain.layers if l.weights])
    rng = np.random.default_rng(0)
    x = rng.random((2, 64, 64, 3), dtype=np.float32)
    thumbnails = rng.random((2, 128, 128, 3), dtype=np.float32)
    same = np.asarray(context_model({"image": x, "context": thumbnails}))
    np.testing.assert_allclose(same, np.asarray(plain(x)), atol=1e-6)
    # The colour head is live: nudging it changes the output by exactly the affine map it encodes.
    head = context_model.get_layer("ctx_colour")
    kernel, bias = head.get_weights()
    bias[9:] = 0.1  # + 0.1 on every channel before the U-Net
    head.set_weights([kernel, bias])
    shifted = np.asarray(context_model.get_layer("ctx_apply")(x, np.tile(bias, (2, 1))))
    np.testing.assert_allclose(shifted, x + 0.1, atol=1e-6)


@pytest.mark.dl
def test_tampered_weights_are_refused(tmp_path):
    shutil.copytree(BUNDLED_UNET, tmp_path / "unet")
    path = tmp_path / "unet" / "unet.npz"
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0x55
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="SHA-256"):
        load_model(tmp_path / "unet")
