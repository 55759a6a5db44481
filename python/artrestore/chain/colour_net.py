"""The classical path's colour map from a tiny network: uint8 RGB image in, per-channel affine map
(gains, offsets in levels: ``out_c = gain_c * in_c + offset_c``) out.

Faded and cast prints are, to a good approximation, a per-channel affine map of the original
(``chain.colour``). The blind estimate of that map (levels, shades of grey) cannot tell a hazy or
warm scene from fading or a cast; this network sees the image's content and its histogram:

- inputs: a ``THUMB`` x ``THUMB`` thumbnail (area filter, aspect squashed, [0, 1]) and, per channel,
  the ``PERCENTILES`` of the 256-bin histogram, its mean and standard deviation (levels / 255);
- four stages of two 3 x 3 convolutions (the first with stride 2, TensorFlow's "same" padding: none
  before, one row and column after), ReLU; global average and max pooling, joined with the
  histogram features; dense layers, ReLU; six outputs: the clean values at the levels ``ANCHORS``
  per channel, as offsets from the identity on the [0, 1] scale.

It was trained on damaged and clean versions of the training-family images only
(``benchmarks/colour_cnn_experiment.py``; docs/chain.md, "A colour map with context?") and runs
here on OpenCV's DNN module (about 0.3 ms per image; no ONNX Runtime needed, so the classical path
stays light). The model folder holds ``colour_net.onnx`` (the graph: operators and float32
weights, no code) and ``model_metadata.json`` (format, the graph's SHA-256, the strength chosen on
the validation split, the training record); the bytes whose hash is checked are the bytes parsed.
"""
from __future__ import annotations

import functools
import hashlib
import pathlib
import threading

import cv2
import numpy as np

from artrestore._modelfile import model_folder, read_metadata
from artrestore._validate import as_rgb, to_uint8
from artrestore.chain.router import ANCHORS, GAIN_RANGE

BUNDLED_COLOUR_NET = pathlib.Path(__file__).resolve().parents[1] / "models" / "colour_net"
FORMAT = "artrestore-colour-net/1"
GRAPH_FILE = "colour_net.onnx"
THUMB = 64
PERCENTILES = (0.5, 2.0, 10.0, 25.0, 50.0, 75.0, 90.0, 98.0, 99.5)
N_FEATURES = 3 * (len(PERCENTILES) + 2)
FLAT_STD = 1.0  # levels: an image whose every channel varies less carries no colour evidence


def thumbnail(image: np.ndarray) -> np.ndarray:
    """``THUMB`` x ``THUMB`` uint8 RGB thumbnail (area filter, aspect squashed)."""
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def histogram_features(image: np.ndarray) -> np.ndarray:
    """Per channel: ``PERCENTILES`` (from the 256-bin histogram), mean and standard deviation, / 255."""
    out = []
    levels = np.arange(256.0)
    for c in range(3):
        hist = cv2.calcHist([image], [c], None, [256], [0, 256]).ravel().astype(np.float64)
        cdf = np.cumsum(hist) / hist.sum()
        out.extend(float(np.searchsorted(cdf, p / 100.0)) / 255.0 for p in PERCENTILES)
        mean = float((hist * levels).sum() / hist.sum())
        out.append(mean / 255.0)
        out.append(float(np.sqrt((hist * (levels - mean) ** 2).sum() / hist.sum())) / 255.0)
    return np.asarray(out, np.float32)


def map_from_output(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gains, offsets) in levels from the six outputs: the clean values at ``ANCHORS`` (r, g, b at the
    low anchor, then the high one) are ``ANCHORS / 255 + out`` on the [0, 1] scale."""
    lo = ANCHORS[0] + 255.0 * np.asarray(out[:3], np.float64)
    hi = ANCHORS[1] + 255.0 * np.asarray(out[3:], np.float64)
    gains = np.clip((hi - lo) / (ANCHORS[1] - ANCHORS[0]), *GAIN_RANGE)
    return gains, lo - gains * ANCHORS[0]


class ColourNet:
    """The network (an OpenCV DNN graph); ``predict_map(image)`` gives the per-channel affine map."""

    def __init__(self, graph: bytes, metadata: dict):
        self._net = cv2.dnn.readNetFromONNX(np.frombuffer(graph, np.uint8))
        self._lock = threading.Lock()  # a Net holds its inputs between setInput and forward
        self.metadata = metadata
        self.strength = float(metadata["strength"])

    @classmethod
    def load(cls, path=None) -> "ColourNet":
        """Load a folder (``colour_net.onnx`` + ``model_metadata.json``); None: the bundled one."""
        folder = model_folder(path, BUNDLED_COLOUR_NET)
        metadata = read_metadata(folder, FORMAT, "colour net")
        if not 0.0 <= float(metadata.get("strength", -1.0)) <= 1.0:
            raise ValueError("colour net: its metadata's strength must be in [0, 1]")
        graph_path = folder / GRAPH_FILE
        if not graph_path.is_file():
            raise FileNotFoundError(f"colour net: {graph_path} not found")
        graph = graph_path.read_bytes()
        if hashlib.sha256(graph).hexdigest() != metadata.get("graph_sha256"):
            raise ValueError(f"colour net: {graph_path} does not match the SHA-256 in its metadata (tampered or foreign)")
        return cls(graph, metadata)

    def outputs(self, thumb: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The six raw outputs for a float32 ``THUMB`` x ``THUMB`` x 3 thumbnail in [0, 1] and the features."""
        with self._lock:
            self._net.setInput(np.ascontiguousarray(thumb, np.float32)[None], "thumb")
            self._net.setInput(np.ascontiguousarray(features, np.float32)[None], "features")
            return self._net.forward().reshape(-1).astype(np.float64)

    def predict_map(self, image) -> tuple[np.ndarray, np.ndarray]:
        """(gains, offsets) per channel, in levels, of a uint8 RGB image (the full map: strength 1).
        A flat image (every channel's standard deviation under ``FLAT_STD`` levels: a blank page, a
        black frame) gets the identity: the network never saw one and its guess would only tint it."""
        rgb = as_rgb(image)
        if rgb.dtype != np.uint8:
            rgb = to_uint8(rgb)
        features = histogram_features(rgb)
        if np.all(features[len(PERCENTILES) + 1::len(PERCENTILES) + 2] * 255.0 < FLAT_STD):
            return np.ones(3), np.zeros(3)
        return map_from_output(self.outputs(thumbnail(rgb).astype(np.float32) / 255.0, features))


@functools.lru_cache(maxsize=1)
def bundled_colour_net() -> ColourNet:
    """The bundled network, loaded once per process."""
    return ColourNet.load()


__all__ = ["ColourNet", "BUNDLED_COLOUR_NET", "bundled_colour_net", "thumbnail", "histogram_features",
           "map_from_output", "THUMB", "PERCENTILES", "N_FEATURES", "FORMAT", "GRAPH_FILE"]
