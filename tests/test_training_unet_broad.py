"""U-Net training on the broad damage model: crops that keep the damage mask aligned with the
image, tiny end-to-end runs that write loadable models (plain, grown with a detector, detector-only)."""
from __future__ import annotations

import numpy as np
import pytest

from artrestore.training import unet_broad, unet_broad_data


def _tiny_run(tmp_path, seed: int, **overrides) -> dict:
    """BroadTrainConfig arguments for a one-epoch run on two blurred-noise training images and one
    validation image (288 x 320, written under ``tmp_path``)."""
    import cv2

    rng = np.random.default_rng(seed)
    for split, count in (("train", 2), ("val", 1)):
        folder = tmp_path / split
        folder.mkdir()
        for k in range(count):
            image = cv2.GaussianBlur(rng.integers(0, 256, (288, 320, 3), dtype=np.uint8), (0, 0), 3)
            cv2.imwrite(str(folder / f"{k}.png"), image)
    return dict(train_dirs=(str(tmp_path / "train"),), val_dir=str(tmp_path / "val"), minutes=0.0,
                steps_per_epoch=1, batch_size=2, variants=1, workers=1) | overrides


def test_crops_keep_the_mask_on_the_damage():
    rng = np.random.default_rng(1)
    mask = rng.random((300, 280)) < 0.1
    damaged = np.where(mask[..., None], 255, 0).astype(np.uint8).repeat(3, axis=2)
    clean = np.zeros_like(damaged)
    contexts = [np.zeros((128, 128, 3), np.float32)]
    x, y = unet_broad_data.crop_batch([damaged], [clean], [mask], [0], contexts, 6, np.random.default_rng(2), 256)
    assert x["image"].shape == (6, 256, 256, 3) and y.shape == (6, 256, 256, 4)
    # Wherever the crop (turned, flipped, colour-jittered) is bright, the mask channel is set.
    np.testing.assert_array_equal(x["image"][..., 0] > 0.5, y[..., 3] > 0.5)


@pytest.mark.dl
@pytest.mark.slow
def test_tiny_run_writes_a_model_that_loads(tmp_path):
    from artrestore.dl.weights import load_model

    cfg = unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "out"), **_tiny_run(tmp_path, 4))
    metadata = unet_broad.train(cfg)
    assert set(metadata["validation"]) == {"light", "moderate", "severe"}
    assert metadata["runs"][-1]["epochs_run"] == 1 and metadata["damage_model"].startswith("broad")
    model, config, loaded = load_model(tmp_path / "out")
    assert config.global_context and loaded["validation"] == metadata["validation"]


@pytest.mark.dl
@pytest.mark.slow
def test_a_run_stopped_during_validation_still_leaves_a_folder_that_continues(tmp_path, monkeypatch):
    """A device call's time limit can end the process in the whole-image validation after fitting
    (it did to run naf1): the fitted weights are on disk by then, and a run continues from them."""
    from artrestore.dl.weights import load_model
    from artrestore.training import unet_broad_eval

    class TimeLimit(Exception):
        pass

    def stopped(*args, **kwargs):
        raise TimeLimit

    monkeypatch.setattr(unet_broad_eval, "val_scores", stopped)
    data = _tiny_run(tmp_path, 5)
    cfg = unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "one"), **data)
    with pytest.raises(TimeLimit):
        unet_broad.train(cfg)
    model, config, metadata = load_model(tmp_path / "one")
    run = metadata["runs"][-1]
    assert run["epochs_run"] == 1 and run["validation"] is None and len(run["val_loss_history"]) == 1
    monkeypatch.undo()
    again = unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "two"), init_from=str(tmp_path / "one"), **data)
    metadata = unet_broad.train(again)
    assert len(metadata["runs"]) == 2 and set(metadata["validation"]) == {"light", "moderate", "severe"}


@pytest.mark.dl
@pytest.mark.slow
def test_a_bf16_run_fits_in_bf16_and_saves_float32_weights_scored_in_float32(tmp_path, monkeypatch):
    from artrestore.dl.weights import load_model
    from artrestore.training import unet_grow

    policies = []
    real = unet_grow.training_model

    def recording(config, *, dtype_policy=None):
        policies.append(dtype_policy)
        return real(config, dtype_policy=dtype_policy)

    monkeypatch.setattr(unet_grow, "training_model", recording)
    cfg = unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "out"), precision="bf16", **_tiny_run(tmp_path, 7))
    metadata = unet_broad.train(cfg)
    # One network fits in mixed bfloat16; the one scored and saved is float32.
    assert policies == ["mixed_bfloat16", None]
    assert metadata["runs"][-1]["config"]["precision"] == "bf16"
    model, _, loaded = load_model(tmp_path / "out")
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert loaded["validation"]["severe"]["psnr"] > 0
    with pytest.raises(ValueError, match="precision='fp16'"):
        unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "x"), precision="fp16",
                                                     train_dirs=(), val_dir=""))


def test_cli_parses_severity_weights_and_names_a_bad_value(capsys):
    import argparse

    from artrestore.cli.train import unet_broad as cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["unet-broad", "--train", "a", "--val", "b", "--out", "c",
                              "--severity-weights", "0.5,0.3,0.2"])
    assert args.severity_weights == (0.5, 0.3, 0.2)
    with pytest.raises(SystemExit):
        parser.parse_args(["unet-broad", "--train", "a", "--val", "b", "--out", "c", "--severity-weights", "0.5,x"])
    assert "comma-separated numbers" in capsys.readouterr().err
    assert parser.parse_args(["unet-broad", "--train", "a", "--val", "b", "--out", "c",
                              "--precision", "bf16"]).precision == "bf16"
    with pytest.raises(SystemExit):
        parser.parse_args(["unet-broad", "--train", "a", "--val", "b", "--out", "c", "--precision", "fp16"])


@pytest.mark.dl
@pytest.mark.slow
def test_a_plain_model_grows_a_detector_and_the_result_loads(tmp_path):
    from artrestore.dl.weights import load_model

    common = _tiny_run(tmp_path, 6)
    unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "plain"), **common))
    metadata = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "grown"), init_from=str(tmp_path / "plain"),
                                                            detector_filters=(4, 4, 4), **common))
    run = metadata["runs"][-1]
    assert "det_head" in run["architecture_grown"] and "enc0_conv0" not in run["architecture_grown"]
    assert set(run["detector_validation_crops"]) == {"light", "moderate", "severe"}
    model, config, _ = load_model(tmp_path / "grown")
    assert config.detector_filters == (4, 4, 4) and model.get_layer("enc0_conv0").get_weights()[0].shape[2] == 4


@pytest.mark.dl
@pytest.mark.slow
def test_detector_only_stage_moves_the_detector_and_nothing_else(tmp_path):
    from artrestore.dl.weights import load_model

    common = _tiny_run(tmp_path, 7, steps_per_epoch=2, learning_rate=1e-2)
    unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "plain"), **common))
    unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "stage1"), init_from=str(tmp_path / "plain"),
                                                 detector_filters=(4, 4, 4), train_only="detector", **common))
    plain, _, _ = load_model(tmp_path / "plain")
    grown, _, _ = load_model(tmp_path / "stage1")
    before = {layer.name: layer.get_weights() for layer in plain.layers}
    for layer in grown.layers:
        if layer.name not in before:  # the detector's layers, its output and the join
            continue
        for old, new in zip(before[layer.name], layer.get_weights()):
            np.testing.assert_array_equal(new[:, :, :old.shape[2]] if new.shape != old.shape else new, old)
    # The mask channel of the first convolution stayed at zero: the restored image is the plain model's.
    assert not np.any(grown.get_layer("enc0_conv0").get_weights()[0][:, :, 3:])
    with pytest.raises(ValueError, match="train_only"):
        unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "bad"), init_from=str(tmp_path / "plain"),
                                                     train_only="detector", **common))


def test_cosine_schedule_falls_from_the_rate_to_its_floor_along_the_budget():
    rates = [unet_broad.cosine_lr(1e-4, t) for t in np.linspace(-0.5, 1.5, 41)]
    assert rates[0] == pytest.approx(1e-4) and rates[-1] == pytest.approx(1e-4 * unet_broad.LR_FLOOR)
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    # Half way: the mean of the two ends (NumPy reference: 0.5 * (1 + cos(pi / 2)) = 0.5).
    assert unet_broad.cosine_lr(1e-4, 0.5) == pytest.approx(1e-4 * (1 + unet_broad.LR_FLOOR) / 2)


def test_cli_takes_the_schedule_and_refuses_an_unknown_one(capsys):
    import argparse

    from artrestore.cli.train import unet_broad as cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    base = ["unet-broad", "--train", "a", "--val", "b", "--out", "c"]
    args = parser.parse_args(base + ["--lr-schedule", "cosine", "--val-variants", "4"])
    assert args.lr_schedule == "cosine" and args.val_variants == 4
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--lr-schedule", "linear"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.dl
@pytest.mark.slow
def test_cosine_run_validates_on_every_version_and_keeps_the_first_pairs(tmp_path):
    common = _tiny_run(tmp_path, 8)
    one = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "one"), **common))
    two = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "two"), lr_schedule="cosine",
                                                       val_variants=2, **common))
    assert one["data"]["val_pairs"] == 3 and two["data"]["val_pairs"] == 6
    for severity in ("light", "moderate", "severe"):
        assert two["validation"][severity]["pairs"] == 2
    with pytest.raises(ValueError, match="lr_schedule"):
        unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "bad"), lr_schedule="linear", **common))


def test_a_fresh_architecture_is_checked_by_field_name(tmp_path):
    assert unet_broad._architecture("") == {}
    assert unet_broad._architecture('{"block": "naf", "base_filters": 48}') == {"block": "naf", "base_filters": 48}
    for bad in ('{"width": 48}', '[1, 2]', '{"global_context": false}'):
        with pytest.raises(ValueError, match="architecture"):
            unet_broad._architecture(bad)
    with pytest.raises(ValueError, match="fresh models only"):
        unet_broad.train(unet_broad.BroadTrainConfig(train_dirs=(str(tmp_path),), val_dir=str(tmp_path),
                                                     out_dir=str(tmp_path / "out"), init_from=str(tmp_path),
                                                     architecture='{"depth": 5}'))


@pytest.mark.dl
@pytest.mark.slow
def test_a_fresh_naf_run_stops_at_its_epoch_cap_and_continues_as_naf(tmp_path):
    """The schedule the architecture comparison and the next NAF runs use: a fresh model of the
    given architecture, stopped by ``epochs`` before its minutes, then continued from its folder."""
    from artrestore.dl.weights import load_model

    common = _tiny_run(tmp_path, 5, minutes=10.0)
    naf = '{"block": "naf", "base_filters": 8, "naf_blocks": [1, 1, 1, 1]}'
    first = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "naf"), architecture=naf, epochs=2,
                                                         lr_schedule="cosine", **common))
    assert first["runs"][-1]["epochs_run"] == 2 and first["runs"][-1]["seconds"] < 600
    second = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "more"), init_from=str(tmp_path / "naf"),
                                                          epochs=1, **common))
    _, config, meta = load_model(tmp_path / "more")
    assert config.block == "naf" and config.base_filters == 8 and config.naf_blocks == (1, 1, 1, 1)
    assert len(meta["runs"]) == 2 and second["runs"][-1]["architecture_grown"] == []


def test_legacy_pairs_are_the_first_synthesizer_with_an_empty_mask():
    """``damage_all`` with ``legacy`` draws exactly ``training.synthesis.synthesize_damage`` (the
    reference) and returns no line mask; broad pairs beside them are ``broad_damage``'s."""
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.synthesis import synthesize_damage

    rng = np.random.default_rng(3)
    clean = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    damaged, masks = unet_broad_data.damage_all([clean, clean], ["severe", "severe"], [7, 7], 1, ["legacy", "broad"])
    np.testing.assert_array_equal(damaged[0], synthesize_damage(clean, "severe", 7)[0])
    assert masks[0].shape == (64, 80) and not masks[0].any()
    reference, reference_mask, _ = broad_damage(clean, "severe", 7)
    np.testing.assert_array_equal(damaged[1], reference)
    np.testing.assert_array_equal(masks[1], reference_mask)


def test_the_jitter_family_is_the_broad_model_on_the_colour_jittered_image():
    from artrestore.training.broad_damage import broad_damage
    from artrestore.training.damage_jitter import colour_jitter

    clean = np.random.default_rng(4).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    damaged, mask = unet_broad_data.damage_one(clean, "moderate", 9, "jitter")
    reference, reference_mask, _ = broad_damage(colour_jitter(clean, "moderate", 9)[0], "moderate", 9)
    np.testing.assert_array_equal(damaged, reference)
    np.testing.assert_array_equal(mask, reference_mask)
    with pytest.raises(ValueError, match="family"):
        unet_broad_data.damage_one(clean, "moderate", 9, "proxy")


def test_ageing_pairs_are_their_generators_output():
    from artrestore.ageing_families import AGEING_FAMILY_NAMES, ageing_damage

    clean = np.random.default_rng(5).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    for name in AGEING_FAMILY_NAMES:
        damaged, mask = unet_broad_data.damage_one(clean, "severe", 11, name)
        reference, reference_mask, record = ageing_damage(name, clean, "severe", 11)
        np.testing.assert_array_equal(damaged, reference)
        np.testing.assert_array_equal(mask, reference_mask)
        assert record["severity"] == "severe"
    damaged, masks = unet_broad_data.damage_all([clean, clean], ["light", "light"], [3, 3], 1, ["dyes", "capture"])
    np.testing.assert_array_equal(damaged[1], ageing_damage("capture", clean, "light", 3)[0])
    with pytest.raises(ValueError, match="ageing family"):
        ageing_damage("check", clean, "severe", 11)


def test_family_shares_are_drawn_as_asked_and_a_run_without_ageing_draws_as_before():
    n = 20_000
    families = unet_broad_data.draw_families(n, 3, legacy=0.1, jitter=0.2, ageing=0.4)
    counts = {name: families.count(name) / n for name in set(families)}
    assert abs(counts["legacy"] - 0.1) < 0.01 and abs(counts["jitter"] - 0.2) < 0.01
    assert abs(counts["broad"] - 0.3) < 0.01
    for name in ("dyes", "silver", "varnish", "capture"):  # the ageing share split evenly
        assert abs(counts[name] - 0.1) < 0.01
    # The former rule (before the ageing families), written out: the same uniform draws.
    u = np.random.default_rng([3, 2]).random(n)
    former = ["legacy" if v < 0.1 else "jitter" if v < 0.3 else "broad" for v in u]
    assert unet_broad_data.draw_families(n, 3, legacy=0.1, jitter=0.2) == former


def test_an_unknown_damage_family_is_refused_by_name():
    clean = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="families"):
        unet_broad_data.damage_all([clean], ["light"], [0], 1, ["check"])


@pytest.mark.dl
@pytest.mark.slow
def test_a_run_with_legacy_pairs_scores_both_families(tmp_path):
    options = _tiny_run(tmp_path, 5, legacy_fraction=1.0)
    run = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "out"), **options))["runs"][-1]
    assert run["data"]["train_pairs_legacy"] == run["data"]["train_pairs"] == 2
    assert run["data"]["val_pairs_legacy"] == run["data"]["val_pairs"] == 3
    assert set(run["validation_legacy"]) == {"light", "moderate", "severe"}
    assert run["validation_legacy"] != run["validation"]  # another generator, other inputs
    # With a detector too (the 2026-12-06 dt5 run died here: its legacy crops carry no mask).
    grown = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "grown"), init_from=str(tmp_path / "out"),
                                                         detector_filters=(4, 4, 4), **options))["runs"][-1]
    assert set(grown["detector_validation_crops"]) == {"light", "moderate", "severe"}
    assert set(grown["validation_legacy"]) == {"light", "moderate", "severe"}
    with pytest.raises(ValueError, match="legacy_fraction"):
        unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "bad"), **options | {"legacy_fraction": 1.5}))
    with pytest.raises(ValueError, match="jitter_fraction"):
        unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "bad"), **options | {"jitter_fraction": 0.5}))


@pytest.mark.dl
@pytest.mark.slow
def test_a_run_with_jitter_pairs_counts_them_and_validates_on_the_broad_pairs(tmp_path):
    options = _tiny_run(tmp_path, 6, jitter_fraction=1.0)
    run = unet_broad.train(unet_broad.BroadTrainConfig(out_dir=str(tmp_path / "out"), **options))["runs"][-1]
    assert run["data"]["train_pairs_jitter"] == run["data"]["train_pairs"] == 2
    assert run["data"]["val_pairs_legacy"] == 0 and run["validation_legacy"] is None
    assert set(run["validation"]) == {"light", "moderate", "severe"}
