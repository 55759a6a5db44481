"""U-Net training (training.unet_train, training.losses) and its export for TF Serving (serving.export)."""
import dataclasses
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from artrestore import metrics
from artrestore.imageio import write_image
from artrestore.training.datasets import split_sources

tf = pytest.importorskip("tensorflow", reason="the DL path needs the [dl] extra (TensorFlow)")

from artrestore.dl.contract import TILE, UNetConfig
from artrestore.dl.weights import load_model
from artrestore.serving.export import export_for_serving
from artrestore.training.losses import LOSSES, make_loss
from artrestore.training.unet_train import TrainConfig, train_unet


@pytest.mark.dl
@pytest.mark.slow
def test_tiny_training_run_save_load_export_signature(tmp_path, astronaut):
    clean_dir = tmp_path / "clean"
    for i in range(7):
        write_image(clean_dir / f"c{i}.png", np.roll(astronaut, 40 * i, axis=1)[::2, ::2])
    for i in range(2):  # training-only extras: counted in training, never in validation
        write_image(tmp_path / "extra" / f"e{i}.png", np.flip(astronaut, axis=i)[::2, ::2])
    cfg = TrainConfig(clean_dir=str(clean_dir), out_dir=str(tmp_path / "model"), epochs=2, steps_per_epoch=3,
                         batch_size=2, variants_per_image=1, image_size=256, workers=1,
                         extra_train_dir=str(tmp_path / "extra"))
    tiny = UNetConfig(base_filters=4, depth=2, global_context=True)
    meta = train_unet(cfg, tiny)
    assert meta["training"]["epochs_run"] == 2 and len(meta["training"]["val_loss_history"]) == 2
    split = split_sources([f"c{i}.png" for i in range(7)], 0)
    assert meta["data"]["val_sources"] == list(split.values()).count("val")
    assert meta["data"]["extra_train_sources"] == 2
    assert meta["data"]["train_pairs"] == list(split.values()).count("train") + 2
    model, config, loaded = load_model(tmp_path / "model")
    assert config == tiny and loaded["weights_sha256"]

    # --init-partial: a wider model takes the layers that fit (the global branch's convolutions).
    wider = UNetConfig(base_filters=8, depth=2, global_context=True)
    partial = train_unet(dataclasses.replace(cfg, out_dir=str(tmp_path / "wider"), epochs=1,
                                                init_from=str(tmp_path / "model"), init_partial=True), wider)
    assert load_model(tmp_path / "wider")[1] == wider
    assert partial["continued_from"]["architecture"]["base_filters"] == 4
    assert partial["continued_from"]["layers_copied"] >= 4  # ctx_conv0-3 share shapes across widths

    target = export_for_serving(tmp_path / "model", tmp_path / "serving", model_name="tiny", version=3)
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
        export_for_serving(tmp_path / "model", tmp_path / "serving", model_name="tiny", version=3)


@pytest.mark.dl
def test_losses_match_numpy_and_the_ssim_metric():
    rng = np.random.default_rng(3)
    y8 = rng.integers(0, 256, (2, 48, 48, 3), dtype=np.uint8)
    p8 = np.clip(y8.astype(int) + rng.integers(-40, 41, y8.shape), 0, 255).astype(np.uint8)
    y, p = y8.astype(np.float32) / 255, p8.astype(np.float32) / 255
    value = {name: float(make_loss(name)(y, p)) for name in LOSSES}
    mse = np.mean((y - p) ** 2)
    assert value["mse"] == pytest.approx(mse, rel=1e-5)
    assert value["l1"] == pytest.approx(np.mean(np.abs(y - p)), rel=1e-5)
    # The SSIM term is the evaluation metric's SSIM (metrics.ssim on the uint8 images, per image).
    ssim = np.mean([metrics.ssim(a, b) for a, b in zip(y8, p8)])
    assert 1 - (value["mse_ssim"] - mse) / 0.2 == pytest.approx(ssim, abs=1e-4)
    magnitude = lambda a: np.abs(np.fft.fft2(a.astype(np.float64), axes=(1, 2)))
    freq = np.mean(np.abs(magnitude(y) - magnitude(p))) / TILE
    assert (value["mse_freq"] - mse) / 0.05 == pytest.approx(freq, rel=1e-3)
    assert value["mse_ssim_freq"] == pytest.approx(value["mse_ssim"] + 0.05 * freq, rel=1e-4)
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("vgg")
