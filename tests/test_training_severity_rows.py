"""Rows for the severity classifier: the routing features of the documented damage draws, by the
family asked for, with each row's family and input PSNR; collections merge by image path."""
import numpy as np
import pytest

from artrestore.training import severity_rows


def _write_images(folder, count, seed):
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(seed)
    for k in range(count):
        image = cv2.GaussianBlur(rng.integers(0, 256, (200, 260, 3), dtype=np.uint8), (0, 0), 2)
        cv2.imwrite(str(folder / f"{k}.png"), image)


def test_collected_rows_are_the_routing_features_of_the_documented_draws(tmp_path):
    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.imageio import read_image
    from artrestore.training.broad_damage import broad_damage

    _write_images(tmp_path / "a", 2, 0)
    rows = severity_rows.collect_rows([tmp_path / "a"], max_side=128, draws=2, seed0=100, workers=1)
    assert rows["x"].shape == (2 * 3 * 2, 27)
    np.testing.assert_array_equal(rows["level"], [0, 0, 1, 1, 2, 2] * 2)
    np.testing.assert_array_equal(rows["source"], [0] * 6 + [1] * 6)
    # Image 1, severe (level 2), second draw: seed 100 + 10 x 1 + 2 x 2 + 1.
    clean = shrink_to(read_image(rows["paths"][1]), 128)
    expected = routing_vector(broad_damage(clean, "severe", 115)[0])
    np.testing.assert_allclose(rows["x"][11], expected)


def test_an_empty_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        severity_rows.collect_rows([tmp_path / "empty"], workers=1)


def test_mixed_rows_are_the_features_of_each_rows_own_family(tmp_path):
    from artrestore._resize import shrink_to
    from artrestore.analysis import routing_vector
    from artrestore.imageio import read_image
    from artrestore.training.unet_broad_data import family_image

    _write_images(tmp_path / "a", 2, 1)
    rows = severity_rows.collect_rows([tmp_path / "a"], max_side=128, draws=2, seed0=500, workers=1,
                                      family=severity_rows.MIX)
    seeds = [500 + 10 * image + 2 * level + draw for image in range(2) for level in range(3) for draw in range(2)]
    assert rows["family"].tolist() == [severity_rows.row_family(severity_rows.MIX, s) for s in seeds]
    assert "broad" not in rows["family"].tolist()
    clean = shrink_to(read_image(rows["paths"][1]), 128)
    damaged = family_image(clean, "moderate", 500 + 10 + 2 + 1, rows["family"][9])
    np.testing.assert_allclose(rows["x"][9], routing_vector(damaged))
    mse = np.mean((clean.astype(np.float64) - damaged) ** 2)
    assert rows["input_psnr"][9] == pytest.approx(10 * np.log10(255 ** 2 / mse))


def test_the_mix_draws_every_other_training_family_evenly_and_names_a_wrong_family():
    from artrestore.training.unet_broad_data import DAMAGE_FAMILIES

    drawn = [severity_rows.row_family(severity_rows.MIX, seed) for seed in range(6000)]
    names, counts = np.unique(drawn, return_counts=True)
    assert sorted(names) == sorted(set(DAMAGE_FAMILIES) - {"broad"})
    assert counts.min() > 0.8 * 6000 / len(names)
    assert severity_rows.row_family("proxy", 3) == "proxy"
    with pytest.raises(ValueError, match="family='check'"):
        severity_rows.collect_rows(["/nowhere"], family="check")


def test_merged_collections_keep_one_source_per_image_path():
    def part(paths, source, value):
        return {"x": np.full((len(source), 27), value), "level": np.zeros(len(source), np.int64),
                "source": np.array(source), "family": np.array(["broad"] * len(source)),
                "input_psnr": np.zeros(len(source)), "paths": np.array(paths), "max_side": 384, "draws": 2,
                "seed0": 7}

    merged = severity_rows.merge_rows([part(["/a.png", "/b.png"], [0, 1, 1], 1.0), part(["/b.png"], [0, 0], 2.0)])
    paths = merged["paths"].tolist()
    assert [paths[k] for k in merged["source"]] == ["/a.png", "/b.png", "/b.png", "/b.png", "/b.png"]
    assert merged["x"][:, 0].tolist() == [1, 1, 1, 2, 2] and merged["draws"].tolist() == [2, 2]
    with pytest.raises(ValueError, match="max_side"):
        severity_rows.merge_rows([part(["/a.png"], [0], 1.0), part(["/a.png"], [0], 1.0) | {"max_side": 256}])
