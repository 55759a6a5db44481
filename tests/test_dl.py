"""The U-Net: tiling, a tiny training run, save/load, SavedModel export and the shipped model."""
import dataclasses
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from artrestore import data, dl, metrics
from artrestore.data import synthesize_damage
from artrestore.imageio import write_image


def test_blending_reproduces_the_image_exactly_under_identity():
    rng = np.random.default_rng(0)
    for shape in [(600, 700, 3), (256, 256, 3), (100, 37, 3), (513, 257, 3)]:
        image = rng.random(shape, dtype=np.float32)
        calls = []
        out = dl.tiled_predict(image, lambda t: (calls.append(len(t)), t)[1], batch_size=4)
        np.testing.assert_allclose(out, image, atol=1e-6)
        assert all(n == calls[0] for n in calls), "batches must have one fixed size"


def test_window_is_positive_and_smooth():
    w = dl.blend_window()[:, :, 0]
    assert w.min() > 0 and w.max() == 1
    assert np.abs(np.diff(w[128])).max() < 0.06


tf = pytest.importorskip("tensorflow", reason="the DL path needs the [dl] extra (TensorFlow)")


@pytest.fixture(scope="module")
def shipped():
    return dl.UNetRestorer()


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
def test_smooth_image_has_no_tile_seams(shipped):
    y, x = np.mgrid[0:600, 0:700].astype(np.float32)
    smooth = np.stack([90 + 60 * np.sin(x / 150), 100 + 50 * np.cos(y / 170), 120 + 0.05 * (x + y)], axis=2)
    smooth = np.clip(smooth, 0, 255).astype(np.uint8)
    out = shipped.restore(smooth).astype(np.float32)
    # Tile borders (stride 224) must not stand out: the column-to-column jump there stays within
    # the image's own typical variation.
    jumps = np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))
    seams = [224 * k + 16 for k in range(1, 3)]  # centres of the blended overlaps
    assert max(jumps[s] for s in seams) < np.percentile(jumps, 99) + 0.5


@pytest.mark.dl
def test_global_branch_starts_as_the_plain_unet_and_then_reads_the_whole_image():
    # Warm start: a plain U-Net's weights in a global-context model give the same output (the
    # colour transform starts at identity, the bottleneck vector at zero), whatever the thumbnail.
    plain = dl.build_unet(dl.UNetConfig(base_filters=8, depth=3))
    context_model = dl.build_unet(dl.UNetConfig(base_filters=8, depth=3, global_context=True))
    assert dl.transfer_weights(plain, context_model) == len([l for l in plain.layers if l.weights])
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


def test_context_is_the_area_average_thumbnail():
    image = np.zeros((512, 1024, 3), np.float32)
    image[:, 512:] = 1.0  # right half white
    thumb = dl.make_context(image)
    assert thumb.shape == (128, 128, 3)
    np.testing.assert_allclose(thumb[:, :64], 0.0)
    np.testing.assert_allclose(thumb[:, 64:], 1.0)


@pytest.mark.dl
def test_tampered_weights_are_refused(tmp_path):
    shutil.copytree(dl.BUNDLED_UNET, tmp_path / "unet")
    path = tmp_path / "unet" / "unet.npz"
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0x55
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="SHA-256"):
        dl.load_model(tmp_path / "unet")


@pytest.mark.dl
@pytest.mark.slow
def test_tiny_training_run_save_load_export_signature(tmp_path, astronaut):
    clean_dir = tmp_path / "clean"
    for i in range(7):
        write_image(clean_dir / f"c{i}.png", np.roll(astronaut, 40 * i, axis=1)[::2, ::2])
    for i in range(2):  # training-only extras: counted in training, never in validation
        write_image(tmp_path / "extra" / f"e{i}.png", np.flip(astronaut, axis=i)[::2, ::2])
    cfg = dl.TrainConfig(clean_dir=str(clean_dir), out_dir=str(tmp_path / "model"), epochs=2, steps_per_epoch=3,
                         batch_size=2, variants_per_image=1, image_size=256, workers=1,
                         extra_train_dir=str(tmp_path / "extra"))
    tiny = dl.UNetConfig(base_filters=4, depth=2, global_context=True)
    meta = dl.train_unet(cfg, tiny)
    assert meta["training"]["epochs_run"] == 2 and len(meta["training"]["val_loss_history"]) == 2
    split = data.split_sources([f"c{i}.png" for i in range(7)], 0)
    assert meta["data"]["val_sources"] == list(split.values()).count("val")
    assert meta["data"]["extra_train_sources"] == 2
    assert meta["data"]["train_pairs"] == list(split.values()).count("train") + 2
    model, config, loaded = dl.load_model(tmp_path / "model")
    assert config == tiny and loaded["weights_sha256"]

    # --init-partial: a wider model takes the layers that fit (the global branch's convolutions).
    wider = dl.UNetConfig(base_filters=8, depth=2, global_context=True)
    partial = dl.train_unet(dataclasses.replace(cfg, out_dir=str(tmp_path / "wider"), epochs=1,
                                                init_from=str(tmp_path / "model"), init_partial=True), wider)
    assert dl.load_model(tmp_path / "wider")[1] == wider
    assert partial["continued_from"]["architecture"]["base_filters"] == 4
    assert partial["continued_from"]["layers_copied"] >= 4  # ctx_conv0-3 share shapes across widths

    target = dl.export_saved_model(tmp_path / "model", tmp_path / "serving", model_name="tiny", version=3)
    assert target == tmp_path / "serving" / "tiny" / "3"
    assert (target / "saved_model.pb").is_file() and (target / "variables").is_dir()
    cli = shutil.which("saved_model_cli") or str(pathlib.Path(sys.executable).with_name("saved_model_cli"))
    shown = subprocess.run([cli, "show", "--dir", str(target), "--tag_set", "serve", "--signature_def",
                            "serving_default"], capture_output=True, text=True, check=True).stdout
    assert "inputs['image']" in shown and "inputs['context']" in shown and "outputs['restored']" in shown
    assert shown.count("shape: (-1, -1, -1, 3)") == 2 and "shape: (-1, 128, 128, 3)" in shown and "DT_FLOAT" in shown

    # The SavedModel computes what the Keras model computes (clipped to [0, 1]).
    loaded_sm = tf.saved_model.load(str(target))
    x = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    thumbnails = np.random.default_rng(1).random((2, 128, 128, 3), dtype=np.float32)
    got = loaded_sm.signatures["serving_default"](image=tf.constant(x), context=tf.constant(thumbnails))["restored"]
    want = np.clip(np.asarray(model({"image": x, "context": thumbnails})), 0, 1)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5)
    with pytest.raises(FileExistsError):
        dl.export_saved_model(tmp_path / "model", tmp_path / "serving", model_name="tiny", version=3)


@pytest.mark.dl
def test_losses_match_numpy_and_the_ssim_metric():
    rng = np.random.default_rng(3)
    y8 = rng.integers(0, 256, (2, 48, 48, 3), dtype=np.uint8)
    p8 = np.clip(y8.astype(int) + rng.integers(-40, 41, y8.shape), 0, 255).astype(np.uint8)
    y, p = y8.astype(np.float32) / 255, p8.astype(np.float32) / 255
    value = {name: float(dl.make_loss(name)(y, p)) for name in ("mse", "l1", "mse_ssim", "mse_freq", "mse_ssim_freq")}
    mse = np.mean((y - p) ** 2)
    assert value["mse"] == pytest.approx(mse, rel=1e-5)
    assert value["l1"] == pytest.approx(np.mean(np.abs(y - p)), rel=1e-5)
    # The SSIM term is the evaluation metric's SSIM (metrics.ssim on the uint8 images, per image).
    ssim = np.mean([metrics.ssim(a, b) for a, b in zip(y8, p8)])
    assert 1 - (value["mse_ssim"] - mse) / 0.2 == pytest.approx(ssim, abs=1e-4)
    magnitude = lambda a: np.abs(np.fft.fft2(a.astype(np.float64), axes=(1, 2)))
    freq = np.mean(np.abs(magnitude(y) - magnitude(p))) / dl.TILE
    assert (value["mse_freq"] - mse) / 0.05 == pytest.approx(freq, rel=1e-3)
    assert value["mse_ssim_freq"] == pytest.approx(value["mse_ssim"] + 0.05 * freq, rel=1e-4)
    with pytest.raises(ValueError, match="unknown loss"):
        dl.make_loss("vgg")
