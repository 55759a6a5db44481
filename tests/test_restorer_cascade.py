"""The cascade strategy: ml_guided, then the U-Net on its output, exactly as the two public calls
run one after the other; its fallback without the U-Net; the cluster hands it to the U-Net worker."""
import json
import os

import cv2
import numpy as np
import pytest

from artrestore.errors import DeepLearningUnavailable
from artrestore.restorer import HybridRestorer
from artrestore.strategies import STRATEGIES, UNET_METHODS
from artrestore.training.synthesis import synthesize_damage

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def damaged(astronaut):
    photo = cv2.resize(astronaut, (160, 120), interpolation=cv2.INTER_AREA)
    return synthesize_damage(photo, "severe", seed=4)[0]


def test_the_cascade_is_ml_guided_then_the_unet_on_its_output(damaged):
    restorer = HybridRestorer()
    out, info = restorer.restore(damaged, "cascade")
    first, chain_info = restorer.restore(damaged, "ml_guided")
    reference, unet_info = restorer.restore(first, "dl")
    np.testing.assert_array_equal(out, reference)
    assert info["method"] == "cascade" and STRATEGIES["cascade"] in UNET_METHODS
    assert info["params"] == {"chain": chain_info["params"], "unet": unet_info["params"]}
    names = [s["name"] if isinstance(s, dict) else s[0] for s in info["stages"]]  # the chain's stages, reported
    assert names == [s["name"] if isinstance(s, dict) else s[0] for s in chain_info["stages"]]
    assert not np.array_equal(out, first) and not np.array_equal(out, damaged)


def test_without_the_unet_the_cascade_is_ml_guided_or_an_error(damaged):
    out, info = HybridRestorer(use_dl=False).restore(damaged, "cascade")
    np.testing.assert_array_equal(out, HybridRestorer(use_dl=False).restore(damaged, "ml_guided")[0])
    assert info["method"] == "ml_guided" and info["fallback"]["from"] == "cascade"
    with pytest.raises(DeepLearningUnavailable, match="disabled"):
        HybridRestorer(use_dl=False, dl_fallback="error").restore(damaged, "cascade")


def test_a_grayscale_input_stays_grayscale(damaged):
    gray = np.repeat(cv2.cvtColor(damaged, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    out, info = HybridRestorer().restore(gray, "cascade")
    assert info.get("monochrome") and (out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 1] == out[:, :, 2]).all()


def test_a_cluster_defers_a_cascade_to_the_unet_worker_and_gets_one_machines_bytes(damaged, tmp_path):
    from artrestore._cluster_stages import DEFERRED, RestoreStage, UNetStage
    from artrestore.imageio import write_image
    from artrestore.storage import open_store

    src = tmp_path / "scan.png"
    write_image(src, damaged)
    store, dst = open_store(tmp_path), tmp_path / "out" / "scan.png"
    batch = {"index": np.arange(1), "src": np.array([os.fsencode(src)], dtype=object),
             "dst": np.array([os.fsencode(dst)], dtype=object)}
    first = RestoreStage(store, store, "cascade", {"use_dl": False}, defer_unet=True)(batch)
    assert json.loads(first["row"][0])["status"] == DEFERRED and not dst.exists()
    second = UNetStage(store, store, "cascade", {})(first)
    row = json.loads(second["row"][0])
    expected = HybridRestorer().restore_file(src, tmp_path / "ref", strategy="cascade", output_path=tmp_path / "ref.png")
    assert row["method"] == expected["method"] == "cascade"
    assert dst.read_bytes() == (tmp_path / "ref.png").read_bytes()
