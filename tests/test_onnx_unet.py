"""The ONNX Runtime U-Net: CPU tiling, the shipped graphs, agreement with Keras, no TensorFlow import
when restoring, stale and tampered graphs, and a re-export of a freshly trained model."""
import json
import logging
import math
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from artrestore import _modelfile, dl, metrics
from artrestore.data import synthesize_damage
from artrestore.dl import onnx_runtime as onnx_unet
from artrestore.dl.tiling import OVERLAP, plan_axis, plan_tiles, tiled_run


def test_axis_plan_covers_the_axis_with_the_fewest_overlapping_tiles():
    for length in [1, 15, 16, 300, 1024, 1025, 1300, 4000]:
        for max_len in [256, 512, 1024]:
            tile, starts = plan_axis(length, max_len)
            assert tile % 16 == 0 and starts[0] == 0 and starts[-1] + tile >= length
            if -(-length // 16) * 16 <= max_len:
                assert starts == [0] and tile - length < 16
                continue
            assert tile <= max_len and starts[-1] + tile == length
            assert len(starts) == math.ceil((length - OVERLAP) / (max_len - OVERLAP))
            assert min(a + tile - b for a, b in zip(starts, starts[1:])) >= OVERLAP


def test_one_pass_when_the_image_fits_and_bounded_tiles_when_not():
    assert plan_tiles(1024, 1024) == ((1024, 1024), [0], [0])
    assert plan_tiles(500, 333) == ((512, 336), [0], [0])
    for h, w in [(4000, 3000), (300, 9000), (9000, 300), (1500, 1000)]:
        (th, tw), rows, cols = plan_tiles(h, w)
        assert th * tw <= onnx_unet.MAX_TILE_PIXELS
        # Few tiles: within one row/column of the area bound.
        assert len(rows) * len(cols) <= (math.ceil(h * w / (th - OVERLAP) / (tw - OVERLAP)) + len(rows) + len(cols))
    with pytest.raises(ValueError, match="multiple of 16"):
        plan_axis(100, 250)


def test_tiled_run_blends_back_the_exact_image_under_identity():
    rng = np.random.default_rng(0)
    for shape, budget in [((600, 700, 3), 256 * 256), ((600, 700, 3), 10**7), ((100, 37, 3), 64 * 64),
                          ((1, 5, 3), 10**6), ((513, 257, 3), 160 * 160)]:
        image = rng.random(shape, dtype=np.float32)
        seen = []
        out = tiled_run(image, lambda t: (seen.append(t.shape), t)[1], max_pixels=budget)
        np.testing.assert_allclose(out, image, atol=1e-6)
        assert all(s[1] % 16 == 0 and s[2] % 16 == 0 and s[1] * s[2] <= max(budget, 16 * 16) for s in seen)


ort = pytest.importorskip("onnxruntime", reason="the ONNX runtime needs onnxruntime")


@pytest.fixture(scope="module")
def onnx_meta():
    return onnx_unet.read_onnx_metadata(dl.BUNDLED_UNET)


def test_shipped_graphs_are_current_hashed_and_small(onnx_meta):
    assert onnx_meta["source_weights_sha256"] == _modelfile.sha256(dl.BUNDLED_UNET / "unet.npz")
    total = 0
    for entry in onnx_meta["graphs"].values():
        path = dl.BUNDLED_UNET / entry["file"]
        assert _modelfile.sha256(path) == entry["sha256"]
        total += path.stat().st_size
    assert set(onnx_meta["graphs"]) == {"fp32", "int8"}
    assert total <= 25 * 2**20


def test_tampered_graph_is_refused(tmp_path):
    folder = shutil.copytree(dl.BUNDLED_UNET, tmp_path / "unet")
    path = folder / onnx_unet.GRAPH_FILES["int8"]
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x55
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="SHA-256"):
        onnx_unet.OnnxUNetRestorer(folder, precision="int8")
    with pytest.raises(ValueError, match="precision"):
        onnx_unet.OnnxUNetRestorer(folder, precision="int4")


def test_restoring_in_process_imports_no_tensorflow():
    code = """
import json, sys
import numpy as np
from artrestore import HybridRestorer
from artrestore.data import synthesize_damage
y, x = np.mgrid[0:300, 0:400]
clean = np.stack([128 + 100 * np.sin(x / 9.0), 128 + 100 * np.cos(y / 13.0), 0 * x + 90], 2).astype(np.uint8)
damaged = synthesize_damage(clean, "severe", 3)[0]
out, info = HybridRestorer(dl_fallback="error").restore(damaged, "dl")
assert out.shape == damaged.shape and info["method"] == "deep_learning"
print(json.dumps({"params": info["params"],
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "jax"))}))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["params"]["runtime"] == "onnxruntime"
    assert report["heavy"] == []


def test_onnx_restorer_has_no_tile_seams():
    # The smooth image of test_dl's seam test, cut into tiles by a small budget, and in one pass.
    y, x = np.mgrid[0:600, 0:700].astype(np.float32)
    smooth = np.stack([90 + 60 * np.sin(x / 150), 100 + 50 * np.cos(y / 170), 120 + 0.05 * (x + y)], axis=2)
    smooth = np.clip(smooth, 0, 255).astype(np.uint8)
    for budget in (320 * 320, onnx_unet.MAX_TILE_PIXELS):
        unet = onnx_unet.OnnxUNetRestorer(max_tile_pixels=budget)
        out = unet.restore(smooth).astype(np.float32)
        jumps = np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))
        (_, tile_w), _, cols = plan_tiles(600, 700, budget)
        seams = [c + OVERLAP // 2 for c in cols[1:]] + [c + tile_w - OVERLAP // 2 for c in cols[:-1]]
        assert len(seams) == (2 * (len(cols) - 1))
        if seams:
            assert max(jumps[s] for s in seams) < np.percentile(jumps, 99) + 0.5


def test_unknown_runtime_or_precision_is_a_clear_error():
    from artrestore import HybridRestorer

    with pytest.raises(ValueError, match="runtime"):
        onnx_unet.make_unet_restorer(runtime="tensorrt")
    with pytest.raises(ValueError, match="precision"):
        HybridRestorer(dl_precision="fp8")


# --------------------------------------------------------------------------------------------
# Against Keras (needs TensorFlow)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tensorflow():
    return pytest.importorskip("tensorflow", reason="Keras needs the [dl] extra (TensorFlow)")


@pytest.fixture(scope="module")
def keras_unet(tensorflow):
    return dl.UNetRestorer()


@pytest.mark.dl
def test_fp32_graph_matches_keras(keras_unet, astronaut):
    damaged = synthesize_damage(astronaut, "severe", seed=5)[0].astype(np.float32) / 255
    context = dl.make_context(damaged)
    fp32 = onnx_unet.OnnxUNetRestorer(precision="fp32")
    tiles = np.stack([damaged[:256, :256], damaged[256:, 256:], damaged[100:356, 200:456]])
    whole = damaged[None, :496, :512]  # one pass at a size the model never trained on
    for batch in (tiles, whole):
        diff = np.abs(fp32.predict_tiles(batch, context) - keras_unet.predict_tiles(batch, context)).max()
        assert diff <= 1e-3, f"ONNX fp32 differs from Keras by {diff:.2e}"


@pytest.fixture(scope="module")
def validation(keras_unet, clean_dir):
    """Validation sources of the training split (never trained or calibrated on), every severity,
    damaged by each seen family (the broad training family and the legacy synthesizer), and Keras'
    PSNR on them through the Keras runtime (one pass per image, as ONNX Runtime runs it)."""
    from artrestore.training.export_onnx import split_settings, validation_pairs
    from artrestore.training.onnx_data import _broad_damage

    meta = dl.read_metadata(dl.BUNDLED_UNET)
    meta["data"] = {**meta["data"], **split_settings(meta)}
    out = {}
    for family, damage in (("broad", _broad_damage), ("legacy", None)):
        pairs = validation_pairs(clean_dir, meta, 12, damage=damage)
        out[family] = pairs, float(np.mean([metrics.psnr(keras_unet.restore(d), c) for d, c, _ in pairs]))
    return out


@pytest.mark.dl
@pytest.mark.slow
def test_the_default_precision_keeps_keras_quality_on_every_seen_family(validation, onnx_meta):
    # The export's choice (int8 only when within 0.1 dB of Keras on every seen family) holds here:
    # the default graph is within 0.1 dB of Keras on 12 validation pairs of each family.
    default = onnx_unet.OnnxUNetRestorer()
    assert default.precision == onnx_meta["default_precision"]
    for family, (pairs, keras_psnr) in validation.items():
        psnr = np.mean([metrics.psnr(default.restore(d), c) for d, c, _ in pairs])
        assert psnr >= keras_psnr - 0.1, f"{family}: {default.precision} {psnr:.3f} dB vs Keras {keras_psnr:.3f} dB"
    measured = {"training": onnx_meta["validation"], **onnx_meta["validation_other_families"]}
    loss = max(s["keras_fp32"]["all"]["psnr"] - s["onnx_int8"]["all"]["psnr"] for s in measured.values())
    assert (onnx_meta["default_precision"] == "int8") == (loss <= 0.1)


def test_int8_calibration_crops_take_each_training_family_in_turn(astronaut):
    # The calibration's damage (docs/cpu_runtime.md): seed k is damaged by training family k mod 7,
    # so 64 crops hold nine or ten of each; the proxy and check families are never among them.
    from artrestore.training.onnx_data import every_family_damage
    from artrestore.training.unet_broad_data import DAMAGE_FAMILIES, family_image

    clean = cv2.resize(astronaut, (96, 96), interpolation=cv2.INTER_AREA)
    for seed in range(len(DAMAGE_FAMILIES) + 1):
        family = DAMAGE_FAMILIES[seed % len(DAMAGE_FAMILIES)]
        np.testing.assert_array_equal(every_family_damage(clean, "moderate", seed),
                                      family_image(clean, "moderate", seed, family))
    assert "proxy" not in DAMAGE_FAMILIES and "check" not in DAMAGE_FAMILIES and len(set(DAMAGE_FAMILIES)) == 7


def _retrain_in_place(folder):
    """Stand-in for a retrain: new weights (and their hash) in the folder's unet.npz."""
    path = folder / "unet.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["w000"] = (arrays["w000"] * np.float16(0.5)).astype(np.float16)
    np.savez_compressed(path, **arrays)
    meta_path = folder / "model_metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["weights_sha256"] = _modelfile.sha256(path)
    meta_path.write_text(json.dumps(meta))


@pytest.mark.dl
def test_stale_graphs_fall_back_to_keras_with_a_warning(tmp_path, caplog, tensorflow):
    folder = shutil.copytree(dl.BUNDLED_UNET, tmp_path / "unet")
    _retrain_in_place(folder)
    with pytest.raises(onnx_unet.StaleOnnxModel):
        onnx_unet.make_unet_restorer(folder, runtime="onnx")
    with caplog.at_level(logging.WARNING, logger="artrestore.dl.onnx_runtime"):
        unet = onnx_unet.make_unet_restorer(folder)
    assert isinstance(unet, dl.UNetRestorer)
    assert any("other weights" in r.getMessage() and "Keras" in r.getMessage() for r in caplog.records)


@pytest.mark.dl
@pytest.mark.slow
def test_export_of_a_retrained_model_is_current_and_matches_keras(tmp_path, clean_dir, tensorflow):
    """The export is re-runnable: a different architecture (a plain, small U-Net) exports, loads,
    matches Keras, and is refused once its weights change again."""
    pytest.importorskip("tf2onnx", reason="the export needs the [export] extra")
    from artrestore.training.export_onnx import export_onnx

    config = dl.UNetConfig(base_filters=8, depth=3, global_context=False)
    model = dl.build_unet(config)
    # Weights as the trainer stores them (float16), the metadata the export reads its split from.
    model.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    meta = dl.read_metadata(dl.BUNDLED_UNET)
    folder = dl.save_weights(model, config, tmp_path / "small", {"data": meta["data"]})
    # Without the training's split seed the export cannot tell training from validation sources.
    with pytest.raises(ValueError, match="split_seed"):
        export_onnx(dl.save_weights(model, config, tmp_path / "no_seed", {"data": {}}), clean_dir=clean_dir)
    written = export_onnx(folder, clean_dir=clean_dir, calibration_crops=4, val_limit=3)
    assert written["fp32_max_abs_diff_vs_keras"] <= 1e-3 and written["gflop_per_256_tile"] > 0
    assert written["validation"]["onnx_fp32"]["all"]["pairs"] == 3
    unet = onnx_unet.OnnxUNetRestorer(folder, precision="fp32")
    x = np.random.default_rng(0).random((2, 64, 96, 3), dtype=np.float32)
    np.testing.assert_allclose(unet.predict_tiles(x), np.clip(np.asarray(model(x)), 0, 1), atol=1e-3)
    assert onnx_unet.OnnxUNetRestorer(folder, precision="int8").predict_tiles(x).shape == x.shape
    _retrain_in_place(folder)
    with pytest.raises(onnx_unet.StaleOnnxModel):
        onnx_unet.OnnxUNetRestorer(folder)
