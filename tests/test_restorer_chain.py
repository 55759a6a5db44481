"""HybridRestorer with the restoration chain: stages, params, mask in the info; masks saved beside
outputs, never over a user's file."""
import json

import numpy as np
import pytest

from artrestore import HybridRestorer
from artrestore.chain import DEFAULT_CHAIN
from artrestore.imageio import read_image, write_image
from artrestore.training.synthesis import synthesize_damage


@pytest.fixture(scope="module")
def restorer():
    return HybridRestorer(use_dl=False)


@pytest.fixture(scope="module")
def damaged(astronaut):
    return synthesize_damage(astronaut[::2, ::2].copy(), "severe", seed=4)[0]


def test_classical_runs_the_chain_with_the_fixed_setting(restorer, damaged):
    restored, info = restorer.restore(damaged, "classical")
    assert info["params"] == DEFAULT_CHAIN.as_dict()
    assert [s["name"] for s in info["stages"]][0] == "noise_estimate"
    assert all({"name", "params", "ms"} <= set(s) for s in info["stages"])
    assert 0 <= info["mask_fraction"] <= 1 and "mask" not in info
    json.dumps(info)  # the info stays JSON (API header, CLI --json) unless the mask is asked for


def test_ml_guided_uses_the_chain_router(restorer, damaged):
    restored, info = restorer.restore(damaged, "ml_guided", return_mask=True)
    assert set(info["params"]) == set(DEFAULT_CHAIN.as_dict())
    assert "predicted_gain_db" in info
    assert info["mask"].shape == damaged.shape[:2] and info["mask"].dtype == np.uint8
    assert restorer.analyze(damaged)["params"] == info["params"]


def test_restore_file_saves_the_mask_and_keeps_user_files(restorer, damaged, tmp_path):
    src = write_image(tmp_path / "in" / "photo.png", damaged)
    row = restorer.restore_file(src, tmp_path / "out", strategy="classical", save_mask=True)
    assert row["status"] == "restored" and row["mask"].endswith("photo_restored_mask.png")
    mask = read_image(row["mask"])
    assert mask.shape[:2] == damaged.shape[:2]
    again = restorer.restore_file(src, tmp_path / "out", strategy="classical", save_mask=True)
    assert again["status"] == "skipped"
    # A file of the user's where the mask would go is never overwritten.
    (tmp_path / "out2").mkdir()
    mine = tmp_path / "out2" / "photo_restored_mask.png"
    mine.write_bytes(b"mine")
    row = restorer.restore_file(src, tmp_path / "out2", strategy="classical", save_mask=True)
    assert row["status"] == "skipped" and mine.read_bytes() == b"mine"


def test_batch_restore_saves_masks(restorer, damaged, tmp_path):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / "in" / name, damaged)
    rows = restorer.batch_restore(tmp_path / "in", tmp_path / "out", strategy="ml_guided", save_mask=True,
                                  progress=False)
    assert [r["status"] for r in rows] == ["restored", "restored"]
    assert all((tmp_path / "out" / f"{n}_restored_mask.png").is_file() for n in ("a", "b"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert all(r["mask"] for r in summary)


@pytest.mark.parametrize("name", ["chelsea_severe.jpg", "coffee_light.jpg", "starry_night_severe.jpg",
                                  "woman_with_hat_moderate.jpg"])
def test_ml_guided_does_no_harm_on_bundled_clean_images(restorer, name):
    from artrestore import metrics
    from artrestore.evaluation import SAMPLES

    clean = read_image(SAMPLES / "clean" / name)
    assert metrics.psnr(restorer.restore(clean, "ml_guided")[0], clean) >= 38


@pytest.mark.parametrize("level", [0, 255])
def test_flat_black_or_white_images_pass_every_fast_path(restorer, level):
    """An all-black (or all-white) scan is a valid image: its chain features are finite (no cast:
    the shades-of-grey gains of a neutral image are equal) and every fast path returns it."""
    from artrestore.chain.features import CHAIN_FEATURE_NAMES, chain_features

    image = np.full((96, 128, 3), level, np.uint8)
    features = dict(zip(CHAIN_FEATURE_NAMES, chain_features(image)))
    assert all(np.isfinite(v) for v in features.values())
    assert features["cast_r"] == features["cast_g"] == features["cast_b"] == 0
    for strategy in ("classical", "ml_guided", "auto"):
        restored, info = restorer.restore(image, strategy)
        assert restored.shape == image.shape and info["method"] in ("classical", "ml_guided", "none", "deep_learning")
        np.testing.assert_allclose(restored.astype(int), level, atol=2)


def test_restore_file_keeps_the_files_alpha_and_one_channel(restorer, damaged, tmp_path):
    """What the user's file had beside its colours is not lost: a cut-out's transparency is written
    back byte for byte (PNG), a grayscale scan stays a one-channel file; JPEG cannot store alpha."""
    from artrestore.imageio import load_image

    alpha = np.tile(np.arange(damaged.shape[1], dtype=np.uint8), (damaged.shape[0], 1))
    src = write_image(tmp_path / "cutout.png", np.dstack([damaged, alpha]))
    row = restorer.restore_file(src, tmp_path / "out", strategy="classical")
    out = load_image(row["output"])
    np.testing.assert_array_equal(out.alpha, alpha)
    restored, _ = restorer.restore(damaged, "classical")
    np.testing.assert_array_equal(out.rgb, restored)  # the colours are what restore() gives
    row = restorer.restore_file(src, tmp_path / "jpg", strategy="classical", ext="jpg")
    assert load_image(row["output"]).alpha is None
    gray = write_image(tmp_path / "scan.png", damaged[..., 1].copy())
    row = restorer.restore_file(gray, tmp_path / "out", strategy="ml_guided")
    assert row["status"] == "restored" and load_image(row["output"]).gray
    assert read_image(row["output"]).shape == damaged.shape


def test_scratches_are_removed_first_when_asked_and_only_then(restorer, damaged):
    from artrestore.chain.scratches import remove_scratches

    asked = HybridRestorer(use_dl=False, scratches=2.0)
    restored, info = asked.restore(damaged, "none", return_mask=True)
    expected, mask = remove_scratches(damaged, 2.0)
    np.testing.assert_array_equal(restored, expected)
    np.testing.assert_array_equal(info["mask"], mask)
    assert info["scratches"]["sensitivity"] == 2.0 and info["scratches"]["mask_fraction"] == np.mean(mask > 0)
    # Then the path runs on the scratch-free image; its own mask joins the scratches'.
    chained, info = asked.restore(damaged, "classical", return_mask=True)
    np.testing.assert_array_equal(chained, restorer.restore(expected, "classical")[0])
    assert (info["mask"] >= mask).all()
    assert "scratches" not in restorer.restore(damaged, "none")[1]  # off unless asked
    with pytest.raises(ValueError, match="scratches"):
        HybridRestorer(use_dl=False, scratches=float("inf"))


def test_analyze_with_scratches_reports_what_restore_decides(astronaut):
    import cv2

    from artrestore.chain.scratches import remove_scratches

    scanned = cv2.GaussianBlur(astronaut, (0, 0), 3)
    for y in (40, 90, 140):
        cv2.line(scanned, (10, y), (500, y + 60), (25, 25, 25), 2)  # three long dark scratches
    asked, plain = HybridRestorer(use_dl=False, scratches=1.0), HybridRestorer(use_dl=False)
    cleaned, mask = remove_scratches(scanned, 1.0)
    assert mask.mean() > 0.005
    analysis = asked.analyze(scanned)
    assert analysis["features"] == plain.analyze(cleaned)["features"] != plain.analyze(scanned)["features"]
    _, info = asked.restore(scanned)
    assert (info["severity"], info["method"]) == (analysis["severity"], analysis["method"])
