"""The chain as a whole: do no harm on clean images, gains on damage, the stage list and mask."""
import pathlib

import cv2
import numpy as np
import pytest

from artrestore import metrics
from artrestore.chain import DEFAULT_CHAIN, STAGES, ChainParams, run_chain
from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size
from artrestore.training.synthesis import synthesize_damage
from conftest import CLEAN_DIR

SAMPLES = pathlib.Path(__file__).resolve().parents[1] / "python" / "artrestore" / "samples"
BUNDLED_CLEAN = sorted((SAMPLES / "clean").glob("*"))
# A few shared clean images: Set14's colour photographs (its slide, ppt3, is text and clip art, not
# a photograph or painting: thin black strokes on white are what a scratch detector must find).
SHARED_CLEAN = ["set14/baboon.bmp", "set14/face.bmp", "set14/pepper.bmp", "set14/monarch.bmp"]


def _shared(name):
    path = CLEAN_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not found (set ARTRESTORE_DATA)")
    return fit_size(read_image(path), 512)


@pytest.mark.parametrize("path", BUNDLED_CLEAN, ids=lambda p: p.name)
def test_do_no_harm_on_bundled_clean_images(path):
    image = read_image(path)
    out = run_chain(image).image
    assert metrics.psnr(out, image) >= 38


@pytest.mark.parametrize("name", SHARED_CLEAN)
def test_do_no_harm_on_shared_clean_images(name):
    image = _shared(name)
    assert metrics.psnr(run_chain(image).image, image) >= 38


@pytest.fixture(scope="module")
def photo(astronaut):
    return cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("severity", ["moderate", "severe"])
def test_chain_gains_on_synthetic_damage(photo, severity):
    damaged, _ = synthesize_damage(photo, severity, seed=3)
    assert metrics.psnr(run_chain(damaged).image, photo) > metrics.psnr(damaged, photo) + 1


def test_stage_list_mask_and_skip(photo):
    damaged = np.clip(photo * 0.7 + 60, 0, 255).astype(np.uint8)  # faded, lifted blacks
    cv2.line(damaged, (10, 30), (370, 300), (0, 0, 0), 2)  # then scratched: at least 60 levels darker
    params = ChainParams(line_sensitivity=2.0, denoise_strength=0.7, sharpen_strength=0.3)
    result = run_chain(damaged, params)
    names = [s["name"] for s in result.stages]
    assert names == ["noise_estimate", "lines", "inpaint", "denoise", "colour", "sharpen"]
    assert all(s["ms"] >= 0 for s in result.stages)
    assert result.mask.shape == damaged.shape[:2] and result.mask.dtype == np.uint8
    assert result.mask[cv2.line(np.zeros_like(result.mask), (10, 30), (370, 300), 1, 2) > 0].mean() > 150  # most of it
    skipped = run_chain(damaged, params, skip=("lines", "colour"))
    assert [s["name"] for s in skipped.stages] == ["noise_estimate", "denoise", "sharpen"]
    assert not skipped.mask.any()
    with pytest.raises(ValueError, match="unknown stages"):
        run_chain(damaged, skip=("varnish",))


def test_strength_zero_everywhere_is_identity(photo):
    off = ChainParams(line_sensitivity=0, denoise_strength=0, colour_strength=0, sharpen_strength=0)
    result = run_chain(photo, off)
    np.testing.assert_array_equal(result.image, photo)
    assert result.image is not photo
    assert [s["name"] for s in result.stages] == ["noise_estimate"]


def test_params_validation_and_round_trip():
    assert ChainParams.from_dict(DEFAULT_CHAIN.as_dict()) == DEFAULT_CHAIN
    with pytest.raises(ValueError, match="unknown chain parameters"):
        ChainParams.from_dict({"gamma": 1})
    with pytest.raises(ValueError, match="colour_strength"):
        run_chain(np.zeros((8, 8, 3), np.uint8), ChainParams(colour_strength=2))
    with pytest.raises(ValueError, match="line_sensitivity"):
        run_chain(np.zeros((8, 8, 3), np.uint8), ChainParams(line_sensitivity=-1))
    assert set(STAGES) == {"lines", "inpaint", "denoise", "colour", "sharpen"}


def test_float_and_grayscale_inputs(photo):
    out = run_chain(photo.astype(np.float32) / 255).image
    assert out.dtype == np.uint8 and out.shape == photo.shape
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert run_chain(gray).image.shape == photo.shape


def test_fading_dead_zones_leave_a_low_key_or_hazy_scene_alone(photo):
    # A neutral photograph squeezed into levels 20..170 (blacks lifted by 20, whites 85 short of
    # 255): the classical setting reads that as the scene's own tonality (dead zones 24 / 90 levels)
    # and returns it as it is, where the former 16 / 60 levels stretched it.
    grey = cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float64)
    low = np.rint(20 + grey / 255 * 150).astype(np.uint8)
    assert low.min() == 20 and low.max() == 170
    assert np.array_equal(run_chain(low, DEFAULT_CHAIN).image, low)
    former = run_chain(low, ChainParams(colour_strength=0.75, black_tolerance=16, white_tolerance=60)).image
    assert metrics.psnr(former, low) < 38
    # Beyond the dead zones it still acts: lifted by 60 levels, the blacks come down.
    faded = np.rint(60 + grey / 255 * 150).astype(np.uint8)
    assert run_chain(faded, DEFAULT_CHAIN).image.min() < faded.min() - 10
