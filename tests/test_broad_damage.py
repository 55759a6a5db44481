"""The broad damage model (training only): determinism, recorded ranges, masks, severity, input checks."""
import json
import pathlib

import cv2
import numpy as np
import pytest

from artrestore import metrics
from artrestore.training.broad_damage import broad_damage
from artrestore.training.damage_ranges import (
    CHOICES,
    FAMILIES,
    KINDS,
    LINE_SPOT_KINDS,
    MASK_LEVEL,
    RANGES,
    SEVERITIES,
    ranges_markdown,
)

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "damage.md"


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (256, 224), interpolation=cv2.INTER_AREA)


def test_same_inputs_same_damage_other_seed_other_damage(photo):
    a, ma, ra = broad_damage(photo, "severe", 5)
    b, mb, rb = broad_damage(photo, "severe", 5)
    c, _, rc = broad_damage(photo, "severe", 6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)
    assert ra == rb and ra != rc
    assert not np.array_equal(a, c)
    # The pixels take part in the draw: another image with the same seed gets other damage.
    assert broad_damage(photo[::-1].copy(), "severe", 5)[2]["steps"] != ra["steps"]


def _check_params(params: dict, table: dict, where: str):
    for name, value in params.items():
        assert name in table or name in CHOICES, f"{where}: {name!r} is not a documented parameter"
        if isinstance(value, str):
            assert value in CHOICES[name], f"{where}: {name}={value!r}"
        else:
            low, high = table[name]
            assert low <= value <= high, f"{where}: {name}={value} outside [{low}, {high}]"


def _check_record(record, severity):
    json.dumps(record)  # serialisable as is
    assert record["severity"] == severity and record["order"] == [s["kind"] for s in record["steps"]]
    for step in record["steps"]:
        kind, family = step["kind"], step["family"]
        assert family in FAMILIES[kind]
        table = RANGES[severity][kind]
        where = f"{severity}/{kind}/{family}"
        _check_params({k: v for k, v in step.items() if k not in ("kind", "family", "detail")}, table, where)
        for element in step.get("detail", []):
            _check_params(element, table, where + "/detail")


def test_every_draw_is_recorded_inside_the_documented_ranges(photo):
    small = photo[::2, ::2].copy()
    for severity in SEVERITIES:
        for seed in range(6):
            _check_record(broad_damage(small, severity, seed)[2], severity)
        for kind in KINDS:  # every kind, forced, at every severity
            _check_record(broad_damage(small, severity, 1, kinds=[kind])[2], severity)


def test_every_family_of_every_kind_is_drawn():
    image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    seen = {k: set() for k in KINDS}
    for seed in range(40):
        for kind in KINDS:
            seen[kind].add(broad_damage(image, "moderate", seed, kinds=[kind])[2]["steps"][0]["family"])
    assert seen == {k: set(v) for k, v in FAMILIES.items()}


def test_physical_order_holds(photo):
    small = photo[::2, ::2].copy()
    for seed in range(10):
        order = broad_damage(small, "severe", seed)[2]["order"]
        glass = [i for i, k in enumerate(order) if k in ("dust", "hairs")]
        capture = [i for i, k in enumerate(order) if k in ("vignette", "blur", "resample", "noise", "jpeg")]
        objects = [i for i, k in enumerate(order) if i not in glass and i not in capture]
        assert all(o < g for o in objects for g in glass) and all(g < c for g in glass for c in capture)
        if "jpeg" in order:
            assert order[-1] == "jpeg"


def test_documentation_table_is_the_code_table():
    assert ranges_markdown() in DOC.read_text(), "docs/damage.md is out of date: regenerate its table"


@pytest.mark.parametrize("kind", LINE_SPOT_KINDS)
def test_mask_lines_up_with_line_and_spot_damage(photo, kind):
    changed = []
    for seed in range(3):
        damaged, mask, _ = broad_damage(photo, "severe", seed, kinds=[kind])
        diff = np.abs(damaged.astype(np.int16) - photo.astype(np.int16)).max(axis=2)
        assert mask.dtype == bool and mask.shape == photo.shape[:2]
        assert mask.any(), f"{kind}: empty mask"
        inside, outside = diff[mask].mean(), diff[~mask].mean()
        # A crease also shades one side of the fold by a few per cent: outside its line, not in the mask.
        factor = 3 if kind == "crease" else 8
        assert inside >= MASK_LEVEL and inside > factor * max(outside, 0.5), (kind, inside, outside)
        if kind != "crease":  # several creases' shading adds up to more than any level; their lines are checked above
            # Nearly every strongly changed pixel is labelled (soft halos stay below the level).
            assert (diff >= 3 * MASK_LEVEL)[~mask].mean() < 0.002, kind
        changed.append(mask.mean())
    assert max(changed) < 0.5


def test_damage_without_lines_or_spots_has_an_empty_mask(photo):
    _, mask, record = broad_damage(photo, "severe", 2, kinds=["fade", "cast", "blur", "noise", "jpeg", "stains"])
    assert not mask.any() and record["mask_fraction"] == 0


def test_severity_orders_the_damage(astronaut):
    images = [cv2.resize(astronaut, (192, 192)), cv2.resize(astronaut[100:400, 50:450], (192, 160)),
              cv2.resize(astronaut[::-1, ::-1], (160, 192))]
    means = []
    for severity in SEVERITIES:
        scores = [metrics.psnr(broad_damage(im, severity, s)[0], im) for im in images for s in range(6)]
        means.append(np.mean(scores))
    assert means[0] > means[1] + 2 > means[2] + 4, means


def test_shapes_dtypes_and_accepted_inputs(photo):
    odd = photo[:201, :133]
    damaged, mask, record = broad_damage(odd, "moderate", 0)
    assert damaged.shape == odd.shape and damaged.dtype == np.uint8 and mask.shape == (201, 133)
    assert record["shape"] == [201, 133]
    gray = broad_damage(photo[..., 0], "light", 0)[0]
    assert gray.shape == (*photo.shape[:2], 3)
    as_float = broad_damage(photo.astype(np.float32) / 255, "light", 0)[0]
    np.testing.assert_array_equal(as_float, broad_damage(photo, "light", 0)[0])


@pytest.mark.parametrize("image, severity, seed, kinds, error, words", [
    (np.zeros((8, 8, 3), np.int16), "light", 0, None, TypeError, "dtype"),
    (np.zeros((1, 8, 3), np.uint8), "light", 0, None, ValueError, "2x2"),
    (np.zeros((8, 8, 5), np.uint8), "light", 0, None, ValueError, "channels"),
    ([[1, 2], [3, 4]], "light", 0, None, TypeError, "numpy array"),
    (np.zeros((8, 8, 3), np.uint8), "awful", 0, None, ValueError, "severity"),
    (np.zeros((8, 8, 3), np.uint8), "light", 0.5, None, TypeError, "seed"),
    (np.zeros((8, 8, 3), np.uint8), "light", 0, ["mildew"], ValueError, "mildew"),
])
def test_bad_input_is_named(image, severity, seed, kinds, error, words):
    with pytest.raises(error, match=words):
        broad_damage(image, severity, seed, kinds=kinds)


def test_a_fixed_family_is_used_and_a_wrong_one_named(photo):
    for family in FAMILIES["blur"]:
        record = broad_damage(photo, "severe", 0, kinds=["blur"], families={"blur": family})[2]
        assert record["steps"][0]["family"] == family
    with pytest.raises(ValueError, match="rainbow"):
        broad_damage(photo, "severe", 0, families={"cast": "rainbow"})
