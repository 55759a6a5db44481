"""The proxy family: independence from the other generators, determinism, severity, masks, effects
against NumPy/OpenCV references, input checks."""
import ast
import json
import pathlib

import cv2
import numpy as np
import pytest

from artrestore import metrics
from artrestore.proxy_family import PROXY_FAMILY_VERSION, marks, proxy_damage, reproduction, tone
from artrestore.proxy_family.levels import MARKS, PROBABILITY, REPRODUCTION, SEVERITIES, STRENGTH, TONE

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "artrestore"
ALLOWED = {"__future__", "hashlib", "numpy", "cv2", "artrestore._validate", "artrestore.proxy_family"}


def _imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
    return found


def test_imports_nothing_from_the_other_generators():
    for path in (PACKAGE / "proxy_family").glob("*.py"):
        imported = _imports(path)
        assert all(any(name == a or name.startswith(a + ".") for a in ALLOWED) for name in imported), (path, imported)


def test_no_other_generator_imports_it():
    for folder in ("check_family",):
        for path in (PACKAGE / folder).glob("*.py"):
            assert not any(name.startswith("artrestore.proxy_family") for name in _imports(path)), path


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(3)
    # A smooth colourful scene with edges: gradients, a disc and a bar (an independent known image).
    yy, xx = np.mgrid[0:192, 0:256].astype(np.float32)
    img = np.stack([40 + 180 * xx / 255, 60 + 150 * yy / 191, 200 - 120 * xx / 255], -1)
    cv2.circle(img, (170, 90), 40, (230, 200, 60), -1)
    cv2.rectangle(img, (30, 120), (120, 140), (20, 40, 90), -1)
    img += rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_same_inputs_same_damage_and_seeds_differ(photo):
    a = proxy_damage(photo, "moderate", 5)
    b = proxy_damage(photo, "moderate", 5)
    c = proxy_damage(photo, "moderate", 6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert not np.array_equal(a[0], c[0])


def test_output_types_and_record(photo):
    damaged, mask, record = proxy_damage(photo, "severe", 1)
    assert damaged.dtype == np.uint8 and damaged.shape == photo.shape
    assert mask.dtype == bool and mask.shape == photo.shape[:2]
    json.dumps(record)
    assert record["model"] == PROXY_FAMILY_VERSION and record["severity"] == "severe"
    assert record["order"] == [s["effect"] for s in record["steps"]]
    low, high = STRENGTH["severe"]
    assert all(low <= s["strength"] <= high for s in record["steps"])
    assert record["mask_fraction"] == pytest.approx(mask.mean(), abs=1e-6)


def test_order_ages_then_marks_then_reproduces():
    rank = {e: 0 for e in TONE} | {e: 1 for e in MARKS} | {e: 2 for e in REPRODUCTION}
    image = np.full((64, 64, 3), 128, np.uint8)
    for seed in range(6):
        order = proxy_damage(image, "severe", seed)[2]["order"]
        assert [rank[e] for e in order] == sorted(rank[e] for e in order)
        if "jpeg" in order:
            assert order[-1] == "jpeg"


def test_severity_orders_the_damage(photo):
    psnr = {sev: np.mean([metrics.psnr(proxy_damage(photo, sev, s)[0], photo) for s in range(8)]) for sev in SEVERITIES}
    assert psnr["light"] > psnr["moderate"] > psnr["severe"]
    assert all(PROBABILITY["light"][e] <= PROBABILITY["severe"][e] for e in PROBABILITY["light"])


def test_mask_marks_the_changed_pixels():
    grey = np.full((128, 128, 3), 128.0, np.float32)
    for effect in ("tears", "specks", "losses", "abrasion"):
        out, _, cover = marks.EFFECTS[effect](grey.copy(), 0.8, np.random.default_rng(2), 0.25)
        change = np.abs(out - grey).max(axis=2)
        inside = cover >= 0.4
        assert inside.any(), effect
        assert change[inside].min() > 20, effect  # a covering mark of a far tone changes what it covers
        assert np.all(change[cover == 0] == 0), effect  # and nothing else


def test_blots_tint_without_a_mask():
    grey = np.full((96, 96, 3), 200.0, np.float32)
    out, _, cover = marks.blots(grey, 0.9, np.random.default_rng(0), 0.2)
    assert cover is None and out.max() <= 200.0 + 1e-4 and out.min() < 190


def test_crosstalk_keeps_greys_grey():
    ramp = np.repeat(np.linspace(0, 255, 64, dtype=np.float32)[None, :, None], 3, axis=2)
    out, params = tone.crosstalk(ramp, 1.0, np.random.default_rng(1), 1.0)
    assert np.allclose(out, ramp, atol=1e-3)
    assert np.allclose(np.sum(params["matrix"], axis=1), 1.0, atol=1e-3)


def test_curves_are_monotone_per_channel():
    ramp = np.repeat(np.linspace(0, 255, 256, dtype=np.float32)[None, :, None], 3, axis=2)
    out, _ = tone.curves(ramp, 1.0, np.random.default_rng(4), 1.0)
    assert np.all(np.diff(out[0], axis=0) >= -1e-4)


def test_posterize_matches_a_numpy_reference():
    x = np.arange(256, dtype=np.float32).reshape(16, 16, 1).repeat(3, axis=2)
    out, params = reproduction.posterize(x, 1.0, np.random.default_rng(0), 1.0)
    step = 256 // (1 << params["bits"])
    assert np.array_equal(out, (x // step) * step + step / 2)


def test_jpeg_matches_opencv(photo):
    out, params = reproduction.jpeg(photo.astype(np.float32), 0.5, np.random.default_rng(0), 1.0)
    _, data = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, params["quality"]])
    assert np.array_equal(out, cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


def test_float_and_grey_inputs(photo):
    grey = photo[:, :, 0]
    damaged, _, _ = proxy_damage(grey, "light", 0)
    assert damaged.shape == grey.shape + (3,)
    as_float = photo.astype(np.float32) / 255.0
    assert np.array_equal(proxy_damage(as_float, "light", 0)[0], proxy_damage(photo, "light", 0)[0])


@pytest.mark.parametrize("bad, message", [
    (dict(severity="extreme"), "severity"),
    (dict(seed=1.5), "seed"),
    (dict(seed=True), "seed"),
])
def test_bad_arguments_name_the_problem(photo, bad, message):
    kwargs = {"severity": "light", "seed": 0, **bad}
    with pytest.raises((ValueError, TypeError), match=message):
        proxy_damage(photo, **kwargs)


def test_bad_image_is_a_value_error():
    with pytest.raises(ValueError, match="clean"):
        proxy_damage(np.zeros((4, 4, 5), np.uint8), "light", 0)
