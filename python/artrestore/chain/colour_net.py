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
here in NumPy (about 1 ms per image, no ONNX Runtime needed: the classical path stays light). The
model folder holds ``colour_net.npz`` (float32 arrays) and ``model_metadata.json`` (format, the
arrays' SHA-256, the strength chosen on the validation split, the training record); loading
executes no code from it.
"""
from __future__ import annotations

import functools
import pathlib

import cv2
import numpy as np

from artrestore._modelfile import load_arrays, model_folder, read_metadata
from artrestore._validate import as_rgb, to_uint8
from artrestore.chain.router import ANCHORS, GAIN_RANGE

BUNDLED_COLOUR_NET = pathlib.Path(__file__).resolve().parents[1] / "models" / "colour_net"
FORMAT = "artrestore-colour-net/1"
ARRAYS_FILE = "colour_net.npz"
THUMB = 64
PERCENTILES = (0.5, 2.0, 10.0, 25.0, 50.0, 75.0, 90.0, 98.0, 99.5)
N_FEATURES = 3 * (len(PERCENTILES) + 2)
CONV_STRIDES = (2, 1, 2, 1, 2, 1, 2, 1)
N_DENSE = 3
FLAT_STD = 1.0  # levels: an image whose every channel varies less carries no colour evidence


def _schema() -> dict:
    schema = {}
    for i in range(len(CONV_STRIDES)):
        schema[f"conv{i}_w"] = ("float32", 4)   # out x in x 3 x 3
        schema[f"conv{i}_b"] = ("float32", 1)
    for i in range(N_DENSE):
        schema[f"dense{i}_w"] = ("float32", 2)  # in x out
        schema[f"dense{i}_b"] = ("float32", 1)
    return schema


ARRAY_SCHEMA = _schema()


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


def _conv3x3(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """ReLU(conv) of a C x H x W map with TensorFlow's "same" padding (stride 2 pads after only)."""
    before = 1 if stride == 1 else 0
    padded = np.pad(x, ((0, 0), (before, 1), (before, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))[:, ::stride, ::stride]
    out = np.tensordot(weights, windows, axes=([1, 2, 3], [0, 3, 4])) + bias[:, None, None]
    return np.maximum(out, 0.0, dtype=np.float32)


class ColourNet:
    """The network's arrays; ``predict_map(image)`` gives the per-channel affine map."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self._arrays = arrays
        self.metadata = metadata
        self.strength = float(metadata["strength"])

    @classmethod
    def load(cls, path=None) -> "ColourNet":
        """Load a folder (``colour_net.npz`` + ``model_metadata.json``); None: the bundled one."""
        folder = model_folder(path, BUNDLED_COLOUR_NET)
        metadata = read_metadata(folder, FORMAT, "colour net")
        if not 0.0 <= float(metadata.get("strength", -1.0)) <= 1.0:
            raise ValueError("colour net: its metadata's strength must be in [0, 1]")
        arrays = load_arrays(folder / ARRAYS_FILE, ARRAY_SCHEMA, "colour net", metadata.get("arrays_sha256"))
        return cls(arrays, metadata)

    def outputs(self, thumb: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The six raw outputs for a float32 ``THUMB`` x ``THUMB`` x 3 thumbnail in [0, 1] and the features."""
        a = self._arrays
        x = np.ascontiguousarray(np.asarray(thumb, np.float32).transpose(2, 0, 1))
        for i, stride in enumerate(CONV_STRIDES):
            x = _conv3x3(x, a[f"conv{i}_w"], a[f"conv{i}_b"], stride)
        h = np.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2)), np.asarray(features, np.float32)])
        for i in range(N_DENSE):
            h = h @ a[f"dense{i}_w"] + a[f"dense{i}_b"]
            if i < N_DENSE - 1:
                h = np.maximum(h, 0.0)
        return h

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
           "map_from_output", "THUMB", "PERCENTILES", "N_FEATURES", "FORMAT", "ARRAYS_FILE", "ARRAY_SCHEMA"]
