"""Scratch, crack and spot detection: the core's directional runs against a NumPy reference, the
detector on drawn damage and on clean texture."""
import cv2
import numpy as np
import pytest

from artrestore import _core
from artrestore.chain import lines


@pytest.fixture(scope="module")
def random_mask():
    return (np.random.default_rng(0).random((61, 83)) < 0.55).astype(np.uint8)


def runs_reference(mask, axis):
    """Run length through each nonzero pixel along rows ('row'), columns ('col') or the down-right
    diagonals ('diag'), by plain Python loops."""
    m = mask.astype(bool)
    h, w = m.shape
    if axis == "col":
        return runs_reference(mask.T, "row").T
    if axis == "row":
        coords = [[(y, x) for x in range(w)] for y in range(h)]
    else:
        coords = [[(y, y - d) for y in range(h) if 0 <= y - d < w] for d in range(-(w - 1), h)]
    out = np.zeros((h, w), np.int64)
    for line in coords:
        run = []
        for y, x in line:
            if m[y, x]:
                run.append((y, x))
            else:
                for p in run:
                    out[p] = len(run)
                run = []
        for p in run:
            out[p] = len(run)
    return out


@pytest.mark.parametrize("angle, axis", [(0, "row"), (90, "col"), (45, "diag")])
def test_directional_runs_match_reference(random_mask, angle, axis):
    got = _core.directional_runs(random_mask, angle)
    np.testing.assert_array_equal(got, runs_reference(random_mask, axis))


@pytest.mark.parametrize("angle", [0, 7.5, 22.5, 37, 60, 97, 130, 172])
def test_directional_runs_follow_a_drawn_line(angle):
    """A 1-px digital line drawn by OpenCV, dilated by 3x3, holds a run of about its length."""
    mask = np.zeros((200, 200), np.uint8)
    c, r = np.array([100, 100]), 70
    d = np.array([np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))])
    cv2.line(mask, tuple(np.int32(c - r * d)), tuple(np.int32(c + r * d)), 1, 1)
    widened = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    runs = _core.directional_runs(widened, angle)
    assert runs[100, 100] >= 0.95 * (2 * r + 1) * max(abs(d[0]), abs(d[1]))  # digital length, steps on the major axis


def test_oriented_runs_keep_lines_and_drop_blobs():
    mask = np.zeros((120, 120), np.uint8)
    mask[20, 10:110] = 1             # a thin line
    mask[60:100, 40:80] = 1          # a 40 x 40 blob
    runs = _core.oriented_runs(mask, 12, 8)
    assert runs[20, 60] == 100
    # Only the blob's corners look thin in some direction (a diagonal run across a corner is short).
    assert (runs[60:100, 40:80] >= 15).mean() < 0.1


def test_oriented_runs_refuse_bad_arguments():
    with pytest.raises(ValueError, match="n_angles"):
        _core.oriented_runs(np.zeros((4, 4), np.uint8), 7, 3)
    with pytest.raises(TypeError, match="uint8"):
        _core.oriented_runs(np.zeros((4, 4), np.float32), 12, 3)
    with pytest.raises(ValueError, match="H x W"):
        _core.oriented_runs(np.zeros((4, 4, 3), np.uint8), 12, 3)


def test_core_and_opencv_peer_agree_on_axis_lines():
    mask = (np.random.default_rng(1).random((90, 90)) < 0.03).astype(np.uint8)
    mask[30, 5:80] = 1
    mask[10:85, 50] = 1
    # Odd lengths: OpenCV's line elements are centred, so odd, and the two tests then coincide.
    core = lines.oriented_lines(mask, 15, 7, 2)
    peer = lines.oriented_lines_opencv(mask, 15, 7, 2)
    np.testing.assert_array_equal(core, peer)
    assert core[30, 5:80].mean() > 0.8 and core[10:85, 50].mean() > 0.8  # dots beside the line widen it


@pytest.fixture(scope="module")
def smooth_photo(astronaut):
    # Smoothed so that the only thin structures are the ones drawn by the test.
    return cv2.GaussianBlur(cv2.resize(astronaut, (512, 512), interpolation=cv2.INTER_AREA), (0, 0), 3)


def draw_damage(image, seed=0):
    rng = np.random.default_rng(seed)
    out = image.copy()
    truth = np.zeros(image.shape[:2], np.uint8)
    for k in range(6):  # long scratches, bright and dark, 1-2 px
        a = rng.integers(0, 512, 2)
        ang = rng.uniform(0, np.pi)
        b = (a + 300 * np.array([np.cos(ang), np.sin(ang)])).astype(int)
        colour = (255, 255, 255) if k % 2 else (0, 0, 0)
        thick = 1 + k % 2
        cv2.line(out, tuple(map(int, a)), tuple(map(int, b)), colour, thick)
        cv2.line(truth, tuple(map(int, a)), tuple(map(int, b)), 1, thick)
    for _ in range(12):  # dust spots
        c = tuple(map(int, rng.integers(20, 492, 2)))
        r = int(rng.integers(1, 4))
        cv2.circle(out, c, r, (0, 0, 0) if rng.random() < 0.5 else (255, 255, 255), -1)
        cv2.circle(truth, c, r, 1, -1)
    # What is damage: drawn pixels whose luma moved by more than the detector's floor (a black line
    # across a black area changes nothing).
    moved = np.abs(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(int) - cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)) > 60
    return out, truth.astype(bool) & moved


def test_detects_drawn_scratches_and_spots(smooth_photo):
    damaged, truth = draw_damage(smooth_photo)
    mask = lines.detect_lines(damaged) > 0
    recall = (mask & truth).sum() / truth.sum()
    precision = (mask & cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)).sum() / mask.sum()
    assert recall > 0.9, recall
    assert precision > 0.95, precision


@pytest.mark.parametrize("name", ["grass", "gravel", "chelsea"])
def test_clean_texture_is_not_damage(name):
    """Grass, gravel and cat fur: dense thin structure, none of it a scratch."""
    skdata = pytest.importorskip("skimage.data")
    image = getattr(skdata, name)()  # grayscale ones too: the detector's as_rgb replicates them
    assert (lines.detect_lines(image) > 0).mean() < 0.002


def test_sensitivity_zero_and_bad_values(smooth_photo):
    damaged, _ = draw_damage(smooth_photo)
    assert not lines.detect_lines(damaged, 0).any()
    with pytest.raises(ValueError, match="sensitivity"):
        lines.detect_lines(damaged, -1)
    with pytest.raises(ValueError, match="sensitivity"):
        lines.detect_lines(damaged, float("nan"))


def test_float_input_gives_the_same_mask(smooth_photo):
    damaged, _ = draw_damage(smooth_photo)
    np.testing.assert_array_equal(lines.detect_lines(damaged.astype(np.float32) / 255), lines.detect_lines(damaged))
