"""The classical path's colour network: its pass (OpenCV DNN) against ONNX Runtime on the graph the
experiment exported, its histogram features against NumPy, the model file's checks, and do no harm
on clean images / a gain on a faded one through the classical path."""
import json
import pathlib
import shutil

import numpy as np
import pytest

from artrestore import metrics
from artrestore.chain.colour_net import (
    BUNDLED_COLOUR_NET,
    GRAPH_FILE,
    N_FEATURES,
    THUMB,
    ColourNet,
    bundled_colour_net,
    histogram_features,
)
from artrestore.chain.paths import run_classical
from artrestore.imageio import read_image
from artrestore.training.datasets import fit_size
from conftest import CLEAN_DIR

REPO = pathlib.Path(__file__).resolve().parents[1]
ONNX_GRAPH = REPO / "benchmarks" / "results" / "colour_cnn" / "colour_cnn.onnx"
SAMPLES = REPO / "python" / "artrestore" / "samples"
SHARED_CLEAN = ["set14/baboon.bmp", "set14/face.bmp", "set14/pepper.bmp", "set14/monarch.bmp"]


def test_forward_pass_matches_onnx_runtime_on_the_exported_graph():
    ort = pytest.importorskip("onnxruntime")
    assert (BUNDLED_COLOUR_NET / GRAPH_FILE).read_bytes() == ONNX_GRAPH.read_bytes()  # the experiment's network
    session = ort.InferenceSession(str(ONNX_GRAPH), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    net = bundled_colour_net()
    rng = np.random.default_rng(0)
    for _ in range(4):
        thumb = rng.random((THUMB, THUMB, 3), dtype=np.float32)
        feats = rng.random(N_FEATURES, dtype=np.float32)
        feeds = {"thumb": thumb[None], "features": feats[None]}
        expected = session.run(None, {n: feeds[n] for n in names})[0][0]
        np.testing.assert_allclose(net.outputs(thumb, feats), expected, atol=1e-5)


def test_histogram_features_match_numpy_statistics():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    feats = histogram_features(image).reshape(3, -1)
    for c in range(3):
        np.testing.assert_allclose(feats[c, -2] * 255, image[:, :, c].mean(), rtol=1e-5)
        np.testing.assert_allclose(feats[c, -1] * 255, image[:, :, c].std(), rtol=1e-5)
        np.testing.assert_allclose(feats[c, 4] * 255, np.percentile(image[:, :, c], 50, method="inverted_cdf"),
                                   atol=1)


def test_refuses_tampered_arrays_and_a_strength_out_of_range(tmp_path):
    tampered = tmp_path / "tampered"
    shutil.copytree(BUNDLED_COLOUR_NET, tampered)
    with open(tampered / GRAPH_FILE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ValueError, match="SHA-256"):
        ColourNet.load(tampered)
    strong = tmp_path / "strong"
    shutil.copytree(BUNDLED_COLOUR_NET, strong)
    meta = json.loads((strong / "model_metadata.json").read_text())
    (strong / "model_metadata.json").write_text(json.dumps({**meta, "strength": 1.5}))
    with pytest.raises(ValueError, match="strength"):
        ColourNet.load(strong)


@pytest.mark.parametrize("level", [0, 128, 255])
def test_a_flat_image_keeps_its_colour(level):
    image = np.full((32, 48, 3), level, np.uint8)
    gains, offsets = bundled_colour_net().predict_map(image)
    assert np.array_equal(gains, np.ones(3)) and np.array_equal(offsets, np.zeros(3))


@pytest.mark.parametrize("path", sorted((SAMPLES / "clean").glob("*")), ids=lambda p: p.name)
def test_classical_does_no_harm_on_bundled_clean_images(path):
    image = read_image(path)
    assert metrics.psnr(run_classical(image).image, image) >= 38


@pytest.mark.parametrize("name", SHARED_CLEAN)
def test_classical_does_no_harm_on_shared_clean_images(name):
    path = CLEAN_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not found (set ARTRESTORE_DATA)")
    image = fit_size(read_image(path), 512)
    assert metrics.psnr(run_classical(image).image, image) >= 38


@pytest.mark.parametrize("path", sorted((SAMPLES / "clean").glob("*")), ids=lambda p: p.name)
def test_classical_brings_a_faded_print_closer(path):
    """A print faded to a lifted, flattened, yellowed range: the classical path's map moves it back."""
    clean = read_image(path)
    faded = np.clip(clean * np.array([0.62, 0.58, 0.50]) + np.array([85, 80, 60]), 0, 255).astype(np.uint8)
    assert metrics.psnr(run_classical(faded).image, clean) > metrics.psnr(faded, clean) + 1.0
