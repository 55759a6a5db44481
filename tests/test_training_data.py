"""Damage synthesizer (training.synthesis) and paired dataset builder (training.datasets)."""
import csv

import cv2
import numpy as np
import pytest

import artrestore
from artrestore import metrics
from artrestore.imageio import read_image, write_image
from artrestore.training import datasets, synthesis


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)


def test_same_seed_same_damage_other_seed_other_damage(photo):
    a, pa = synthesis.synthesize_damage(photo, "severe", seed=3)
    b, pb = synthesis.synthesize_damage(photo, "severe", seed=3)
    c, _ = synthesis.synthesize_damage(photo, "severe", seed=4)
    np.testing.assert_array_equal(a, b)
    assert pa == pb
    assert not np.array_equal(a, c)
    assert a.shape == photo.shape and a.dtype == np.uint8


def test_severity_orders_the_damage(clean_images):
    psnr = {s: [] for s in synthesis.SEVERITIES}
    for image in clean_images[:8]:
        for s in synthesis.SEVERITIES:
            psnr[s].append(metrics.psnr(synthesis.synthesize_damage(image, s, seed=1)[0], image))
    means = [np.mean(psnr[s]) for s in synthesis.SEVERITIES]
    assert means[0] > means[1] > means[2], means


@pytest.mark.parametrize(
    "damage, feature, direction",
    [
        ({"blur": 2.0}, "sharpening_need", +1),
        ({"blur": 2.0}, "high_freq_energy", -1),
        ({"cast": 0.0, "yellow": 0.25}, "color_balance_need", +1),
        ({"fade": 0.4, "lift": 30}, "std_dev", -1),
        ({"noise": 12.0}, "high_freq_energy", +1),
        ({"scratches": 12, "cracks": 60}, "radial_edge", +1),
        ({"jpeg": 15, "blur": 0.0}, "radial_75", -1),
        ({"stains": 5}, "mean", -1),
        ({"spots": 70}, "radial_edge", +1),
        ({"grain": 7.0}, "radial_50", +1),
    ],
)
def test_each_damage_moves_its_feature(photo, damage, feature, direction):
    damaged, params = synthesis.synthesize_damage(photo, "severe", seed=0, damage=damage)
    before, after = artrestore.analyze(photo)[feature], artrestore.analyze(damaged)[feature]
    assert direction * (after - before) > 0, (feature, before, after)
    assert all(params[k] == v for k, v in damage.items())


def test_no_damage_is_identity(photo):
    np.testing.assert_array_equal(synthesis.synthesize_damage(photo, "light", damage={})[0], photo)


def test_bad_arguments(photo):
    with pytest.raises(ValueError, match="severity"):
        synthesis.synthesize_damage(photo, "catastrophic")
    with pytest.raises(ValueError, match="unknown damage"):
        synthesis.synthesize_damage(photo, "light", damage={"mould": 1})


def test_build_dataset_splits_by_source_and_reports_bad_files(tmp_path, astronaut):
    src = tmp_path / "src"
    for i in range(8):
        write_image(src / f"img{i}.png", np.roll(astronaut[::4, ::4], 7 * i, axis=1))
    (src / "notes.jpg").write_text("not an image")
    (src / "empty.png").write_bytes(b"")
    (src / "truncated.png").write_bytes((src / "img0.png").read_bytes()[:200])
    report = datasets.build_dataset(src, tmp_path / "ds", per_image=3, size=96, seed=0, progress=False)
    assert report.pairs == 24
    assert sorted(name for name, _ in report.failed) == ["empty.png", "notes.jpg", "truncated.png"]
    rows = list(csv.DictReader(open(tmp_path / "ds" / "pairs.csv")))
    assert len(rows) == 24 and {r["severity"] for r in rows} == set(synthesis.SEVERITIES)
    split_of = {}
    for r in rows:
        assert split_of.setdefault(r["source"], r["split"]) == r["split"], "a source in two splits"
        damaged = read_image(tmp_path / "ds" / r["split"] / "damaged" / r["file"])
        clean = read_image(tmp_path / "ds" / r["split"] / "undamaged" / r["file"])
        assert damaged.shape == clean.shape and min(clean.shape[:2]) == 96
    assert set(split_of.values()) == {"train", "val", "test"}


def test_build_dataset_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        datasets.build_dataset(tmp_path / "nope", tmp_path / "out", progress=False)


def test_packaged_images_are_written_as_rgb_and_never_overwrite(tmp_path):
    skimage_data = pytest.importorskip("skimage.data")
    keep = write_image(tmp_path / "skimage_moon.png", np.zeros((8, 8, 3), np.uint8))
    written, kept = datasets.export_packaged_images(tmp_path)
    assert kept == [keep] and np.all(read_image(keep) == 0), "an existing file was replaced"
    assert len(written) == 13 and all(p.suffix == ".png" for p in written)
    np.testing.assert_array_equal(read_image(tmp_path / "skimage_rocket.png"), skimage_data.rocket())
    camera = read_image(tmp_path / "skimage_camera.png")  # grayscale, written as three equal channels
    np.testing.assert_array_equal(camera, np.repeat(skimage_data.camera()[..., None], 3, axis=2))
    # Images the tests, benchmarks and bundled samples treat as unseen never join training.
    assert not {"skimage_astronaut.png", "skimage_coffee.png", "skimage_chelsea.png"} & {p.name for p in written}


# Damage draws are keyed to the pixels they damage (damage_draw.generator_for), so one level of
# difference in a resized evaluation image draws entirely different damage. OpenCV 4.13 changed
# bicubic enlargement in a few pixels (two of 786 k values of CBSD68's 105025 at 512 px), which
# changed every damaged 512 px test image of the CBSD68 sources between the 2026-11-30 and the
# 2026-12-06 reports. The digests below are the decoding and resampling of OpenCV 4.13-5.1 (the
# result files since 2026-12-06, `evaluation.library_versions`); when they move, every report's
# damaged images move with them: re-run the reports in the same change, then update these.
RESAMPLING_DIGESTS = {  # sample -> (size, digest of the decoded file, digest of fit_size(image, size))
    "chelsea_severe.jpg": (600, "7014ec0210423b9c", "1cb2d343e8c1dea4"),
    "woman_with_hat_moderate.jpg": (700, "bb246764ce6e0523", "73423ed921d4ba92"),
}


@pytest.mark.parametrize("name", sorted(RESAMPLING_DIGESTS))
def test_decoding_and_resampling_that_key_the_damage_draws_are_unchanged(name):
    import hashlib

    from artrestore._resources import SAMPLES
    from artrestore.training.datasets import fit_size

    size, decoded_digest, fitted_digest = RESAMPLING_DIGESTS[name]
    image = read_image(SAMPLES / "clean" / name)
    digest = hashlib.sha256(image.tobytes()).hexdigest()[:16]
    assert digest == decoded_digest, f"JPEG decoding changed (OpenCV {cv2.__version__}): {digest}"
    digest = hashlib.sha256(fit_size(image, size).tobytes()).hexdigest()[:16]
    assert digest == fitted_digest, f"fit_size's resampling changed (OpenCV {cv2.__version__}): {digest}"
