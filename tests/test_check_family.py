"""The check family: independence from the training code, determinism, ranges, masks, severity, input checks."""
import ast
import json
import pathlib

import cv2
import numpy as np
import pytest

from artrestore import metrics
from artrestore.check_family import check_damage, marks
from artrestore.check_family.levels import (
    COVERAGE_FOR_MASK,
    EFFECT_COUNT,
    JITTER,
    SEVERITY_LEVEL,
    SPANS,
    VARIANTS,
    Knob,
    bounds,
)

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "artrestore"
SEVERITIES = tuple(SEVERITY_LEVEL)
# What a check-family module may import: the standard library bits it uses, NumPy, OpenCV, the input
# checks and itself. Nothing from the training damage model or the legacy synthesizer.
ALLOWED = {"__future__", "hashlib", "numpy", "cv2", "artrestore._validate", "artrestore.check_family"}


def _imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = "artrestore." + ".".join(path.relative_to(PACKAGE).parent.parts)
                found.add((base + "." + node.module) if node.module else base)
            else:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "artrestore")
    return found


def test_check_family_imports_nothing_from_training_or_data():
    modules = sorted((PACKAGE / "check_family").glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for name in _imports(path):
            assert not name.startswith(("artrestore.training", "artrestore.data")), f"{path.name} imports {name}"
            assert name in ALLOWED or name.startswith("artrestore.check_family."), f"{path.name} imports {name}"


def test_training_code_never_imports_the_check_family():
    modules = sorted((PACKAGE / "training").rglob("*.py"))
    modules += [p for p in (PACKAGE / "data.py", PACKAGE / "router_fit.py") if p.is_file()]  # legacy names
    assert any("broad_damage" in p.name for p in modules)
    for path in modules:
        assert not any("check_family" in name for name in _imports(path)), f"{path} imports the check family"


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (256, 224), interpolation=cv2.INTER_AREA)


def test_same_inputs_same_damage_other_seed_other_damage(photo):
    a, ma, ra = check_damage(photo, "severe", 5)
    b, mb, rb = check_damage(photo, "severe", 5)
    c, _, rc = check_damage(photo, "severe", 6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)
    assert ra == rb and ra != rc and not np.array_equal(a, c)
    assert check_damage(photo[::-1].copy(), "severe", 5)[2] != ra


def test_records_lie_in_the_documented_ranges(photo):
    small = photo[::2, ::2].copy()
    variants = {e: set() for e in SPANS}
    for severity in SEVERITIES:
        low, high = SEVERITY_LEVEL[severity]
        for seed in range(12):
            record = check_damage(small, severity, seed)[2]
            json.dumps(record)
            assert low <= record["level"] <= high
            count_low, count_high = EFFECT_COUNT[severity]
            assert count_low <= len(record["effects"]) <= count_high
            for effect in record["effects"]:
                name = effect["effect"]
                variants[name].add(effect["variant"])
                assert effect["variant"] in VARIANTS[name]
                assert low * JITTER[0] - 1e-9 <= effect["t"] <= min(1.0, high * JITTER[1]) + 1e-9
                for param in set(effect) & set(SPANS[name]):
                    lo, hi = bounds(severity, name, param)
                    assert lo <= effect[param] <= hi, (severity, name, param, effect[param], (lo, hi))
    assert all(variants.values()), {e: v for e, v in variants.items() if not v}


@pytest.mark.parametrize("effect, variants", [(e, VARIANTS[e]) for e in ("scratches", "cracks", "specks")])
def test_mask_lines_up_with_the_marks(photo, effect, variants):
    image = photo.astype(np.float32) / 255
    apply = getattr(marks, effect)
    for variant in variants:
        for seed in range(3):
            knob = Knob(np.random.default_rng(seed), effect, 0.8)
            knob.variant = variant
            out, coverage = apply(image, knob, min(image.shape[:2]) / 512)
            mask = coverage >= COVERAGE_FOR_MASK
            diff = np.abs(np.clip(out, 0, 1) - image).max(axis=2) * 255
            assert mask.any(), (effect, variant, seed)
            assert diff[mask].mean() > 8 * max(diff[~mask].mean(), 0.5), (effect, variant, diff[mask].mean(),
                                                                           diff[~mask].mean())


def test_mask_of_a_full_draw_marks_changed_pixels(photo):
    for seed in range(6):
        damaged, mask, record = check_damage(photo, "severe", seed)
        assert mask.shape == photo.shape[:2] and mask.dtype == bool
        if any(e["effect"] in ("scratches", "cracks", "specks") and e["t"] > 0.5 for e in record["effects"]):
            diff = np.abs(damaged.astype(np.int16) - photo.astype(np.int16)).max(axis=2)
            assert mask.any() and diff[mask].mean() > diff[~mask].mean()


def test_severity_orders_the_damage(astronaut):
    images = [cv2.resize(astronaut, (192, 192)), cv2.resize(astronaut[100:400, 50:450], (192, 160)),
              cv2.resize(astronaut[::-1, ::-1], (160, 192))]
    means = [np.mean([metrics.psnr(check_damage(im, s, k)[0], im) for im in images for k in range(6)])
             for s in SEVERITIES]
    assert means[0] > means[1] + 2 > means[2] + 4, means


def test_shapes_dtypes_and_accepted_inputs(photo):
    odd = photo[:201, :133]
    damaged, mask, record = check_damage(odd, "moderate", 0)
    assert damaged.shape == odd.shape and damaged.dtype == np.uint8 and mask.shape == (201, 133)
    assert check_damage(photo[..., 0], "light", 0)[0].shape == (*photo.shape[:2], 3)
    np.testing.assert_array_equal(check_damage(photo.astype(np.float32) / 255, "light", 0)[0],
                                  check_damage(photo, "light", 0)[0])


@pytest.mark.parametrize("image, severity, seed, error, words", [
    (np.zeros((8, 8, 3), np.int16), "light", 0, TypeError, "dtype"),
    (np.zeros((1, 8, 3), np.uint8), "light", 0, ValueError, "2x2"),
    (np.full((8, 8, 3), np.nan, np.float32), "light", 0, ValueError, "NaN"),
    (np.zeros((8, 8, 3), np.uint8), "extreme", 0, ValueError, "severity"),
    (np.zeros((8, 8, 3), np.uint8), "light", "1", TypeError, "seed"),
])
def test_bad_input_is_named(image, severity, seed, error, words):
    with pytest.raises(error, match=words):
        check_damage(image, severity, seed)
