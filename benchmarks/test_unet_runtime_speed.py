"""The in-process U-Net's engines in one run: Keras/TensorFlow fp32 (before #17) against ONNX Runtime
fp32 and int8, and OpenVINO (when installed; peers) on the same graphs: fp32, bf16 (fp32 graph,
bf16 inference hint) and int8 (the QDQ graph), same weights, same image. OpenVINO is not a runtime
option: its int8 loses 0.37 dB of validation PSNR against Keras (ONNX Runtime's int8: none).

Run: pytest benchmarks/test_unet_runtime_speed.py --benchmark-json=out/unet_runtime.json
then: python benchmarks/report.py out/unet_runtime.json
Groups: one 256^2 tile; a 1024^2 severe image (Keras through today's 256^2 tiles; the runtimes
through ``onnx_unet.tiled_run``, one pass at this size); the first U-Net image (512^2) in a fresh
process, start-up included. extra_info: GFLOP per tile (TensorFlow's count, from the export
metadata), achieved GFLOP/s (useful work: the image's area in tiles; Keras also executes its
overlap, given as executed_gflop_s).
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from artrestore import dl
from artrestore.data import synthesize_damage
from artrestore.dl import onnx_runtime as onnx_unet
from artrestore.dl.tiling import _starts
from artrestore.imageio import write_image

pytest.importorskip("onnxruntime")
HAS_TF = importlib.util.find_spec("tensorflow") is not None
HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
META = onnx_unet.read_onnx_metadata(dl.BUNDLED_UNET)
GFLOP_TILE = META["gflop_per_256_tile"]


@pytest.fixture(scope="module")
def damaged_1024(photo_at):
    return synthesize_damage(photo_at(1024), "severe", seed=0)[0]


@pytest.fixture(scope="module")
def tile_and_context(damaged_1024):
    image = damaged_1024.astype(np.float32) / 255
    return np.ascontiguousarray(image[None, 384:640, 384:640]), dl.make_context(image)


@pytest.fixture(scope="module")
def keras_unet():
    if not HAS_TF:
        pytest.skip("Keras peer needs TensorFlow")
    return dl.UNetRestorer()


class OpenVinoUNet:
    """An exported graph compiled by OpenVINO (peer): same ``predict_tiles`` / ``restore`` contract."""

    def __init__(self, precision: str, hint: str):
        import openvino as ov

        core = ov.Core()
        graph = dl.BUNDLED_UNET / onnx_unet.GRAPH_FILES[precision]
        self.compiled = core.compile_model(core.read_model(str(graph)), "CPU",
                                           {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"})
        self.request = self.compiled.create_infer_request()

    def predict_tiles(self, tiles, context):
        feeds = {dl.SIGNATURE_INPUT: tiles, dl.SIGNATURE_CONTEXT: dl.per_tile(context, len(tiles))}
        return self.request.infer(feeds)[self.compiled.outputs[0]]

    def restore(self, image):
        image = image.astype(np.float32) / 255
        context = dl.make_context(image)
        return onnx_unet.tiled_run(image, lambda t: self.predict_tiles(t, context))


RUNTIMES = {"onnxruntime_fp32": lambda: onnx_unet.OnnxUNetRestorer(precision="fp32"),
            "onnxruntime_int8": lambda: onnx_unet.OnnxUNetRestorer(precision="int8")}
if HAS_OPENVINO:
    RUNTIMES.update({"openvino_fp32_peer": lambda: OpenVinoUNet("fp32", "f32"),
                     "openvino_bf16_peer": lambda: OpenVinoUNet("fp32", "bf16"),
                     "openvino_int8_peer": lambda: OpenVinoUNet("int8", "f32")})


def _label(name: str) -> str:
    # report.py compares the fastest "artrestore" entry of a group with every other (the peers).
    return name if name.endswith("peer") else f"artrestore {name}"


def _gflop_s(benchmark, tiles_of_work: float, executed: float | None = None):
    median = benchmark.stats.stats.median
    benchmark.extra_info["gflop_per_tile"] = GFLOP_TILE
    benchmark.extra_info["gflop_s"] = GFLOP_TILE * tiles_of_work / median
    if executed is not None:
        benchmark.extra_info["executed_gflop_s"] = GFLOP_TILE * executed / median


# ---------------------------------------------------------------------------------- one tile
def test_tile_256_keras_fp32(benchmark, keras_unet, tile_and_context):
    benchmark.group = "U-Net one 256^2 tile"
    tile, context = tile_and_context
    keras_unet.predict_tiles(tile, context)
    benchmark.pedantic(keras_unet.predict_tiles, args=(tile, context), rounds=5, iterations=1)
    _gflop_s(benchmark, 1)


@pytest.mark.parametrize("name", list(RUNTIMES))
def test_tile_256_artrestore(benchmark, name, tile_and_context):
    benchmark.group = "U-Net one 256^2 tile"
    benchmark.name = _label(name)
    unet = RUNTIMES[name]()
    tile, context = tile_and_context
    unet.predict_tiles(tile, context)
    benchmark.pedantic(unet.predict_tiles, args=(tile, context), rounds=5, iterations=1)
    _gflop_s(benchmark, 1)


# ---------------------------------------------------------------------------------- 1024^2 image
def test_image_1024_keras_fp32_tiled(benchmark, keras_unet, damaged_1024):
    benchmark.group = "U-Net 1024^2 severe image"
    keras_unet.restore(damaged_1024)
    benchmark.pedantic(keras_unet.restore, args=(damaged_1024,), rounds=3, iterations=1)
    per_axis = len(_starts(1024, dl.TILE, dl.TILE - dl.OVERLAP))
    _gflop_s(benchmark, (1024 / dl.TILE) ** 2, executed=per_axis**2)


@pytest.mark.parametrize("name", list(RUNTIMES))
def test_image_1024_artrestore(benchmark, name, damaged_1024):
    benchmark.group = "U-Net 1024^2 severe image"
    benchmark.name = _label(name)
    unet = RUNTIMES[name]()
    unet.restore(damaged_1024)
    benchmark.pedantic(unet.restore, args=(damaged_1024,), rounds=3, iterations=1)
    (th, tw), rows, cols = onnx_unet.plan_tiles(1024, 1024)
    _gflop_s(benchmark, (1024 / dl.TILE) ** 2, executed=len(rows) * len(cols) * th * tw / dl.TILE**2)


# ---------------------------------------------------------------------------------- fresh process
FIRST_IMAGE = """
import sys
from artrestore import HybridRestorer
restored, info = HybridRestorer(dl_fallback="error").restore(sys.argv[1], "dl")
assert info["params"]["runtime"] == sys.argv[2], info["params"]
"""


@pytest.fixture(scope="module")
def scan_512(photo_at, tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "severe_512.png"
    write_image(path, synthesize_damage(photo_at(512), "severe", seed=1)[0])
    return path


def _first_image(runtime: str, precision: str, path) -> None:
    env = {**os.environ, onnx_unet.RUNTIME_ENV: "keras" if runtime == "keras" else "onnx",
           onnx_unet.PRECISION_ENV: precision}
    subprocess.run([sys.executable, "-c", FIRST_IMAGE, str(path), runtime], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)


def test_first_image_keras_fp32(benchmark, scan_512):
    if not HAS_TF:
        pytest.skip("Keras peer needs TensorFlow")
    benchmark.group = "first U-Net image (512^2) in a fresh process"
    benchmark.pedantic(_first_image, args=("keras", "fp32", scan_512), rounds=3, iterations=1)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_first_image_artrestore_onnxruntime(benchmark, precision, scan_512):
    benchmark.group = "first U-Net image (512^2) in a fresh process"
    benchmark.name = f"artrestore onnxruntime_{precision}"
    benchmark.pedantic(_first_image, args=("onnxruntime", precision, scan_512), rounds=3, iterations=1)
