"""The blind restoration chain: RGB image in, restored image + damage mask + stage list out.

Stages, in order (each skipped when its strength is 0):

1. ``lines``: scratch, crack and spot detection (``lines.detect_lines``) -> mask;
2. ``inpaint``: OpenCV Telea inpainting of the mask (``inpaint.inpaint``);
3. ``denoise``: blind noise estimate, then edge-preserving denoising (``denoise.denoise``);
4. ``colour``: fading and cast recovery (``colour.correct_colour``);
5. ``sharpen``: the core's unsharp mask, gently, with a threshold above the remaining noise.

Lines are found before anything smooths them; noise is removed before the colour curve stretches
it and before sharpening could amplify it.

``run_chain(image, params)`` returns a ``ChainResult``: ``image`` (uint8 RGB), ``mask`` (uint8 H x W,
255 = inpainted), ``stages`` (list of dicts: ``name``, ``params``, ``ms``). ``params`` is a
``ChainParams``; ``DEFAULT_CHAIN`` is the fixed setting of the ``classical`` path.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields

import numpy as np

from artrestore import classical
from artrestore._validate import as_rgb, to_uint8
from artrestore.chain.colour import estimate_colour, correct_colour
from artrestore.chain.denoise import denoise, estimate_noise
from artrestore.chain.inpaint import inpaint
from artrestore.chain.lines import DEFAULT_SPOT_THRESHOLD, DEFAULT_THRESHOLD, detect_lines

STAGES = ("lines", "inpaint", "denoise", "colour", "sharpen")


@dataclass(frozen=True)
class ChainParams:
    """Strengths of the chain's stages (0 switches a stage off).

    ``line_sensitivity``: detection floors are ``threshold / sensitivity`` levels (lines 60, spots 120
    at 1). ``denoise_strength``: filter sigma as a multiple of the estimated noise. ``colour_strength``:
    fraction (0-1) of the estimated colour/fading correction; ``colour_tolerance``: multiple of the
    dead zones (black lift 16 levels, cast 0.12 in log gain, white 40 levels) below which nothing is
    corrected. ``sharpen_strength`` / ``sharpen_sigma`` (px): the unsharp mask.
    """
    line_sensitivity: float = 1.0
    denoise_strength: float = 1.0
    colour_strength: float = 0.7
    colour_tolerance: float = 1.0
    sharpen_strength: float = 0.3
    sharpen_sigma: float = 1.0

    def as_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "ChainParams":
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown chain parameters {sorted(unknown)}; use {sorted(names)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def validated(self) -> "ChainParams":
        for name, value in asdict(self).items():
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"chain parameter {name} must be a finite number >= 0, got {value}")
        if self.colour_strength > 1:
            raise ValueError(f"colour_strength must be in [0, 1], got {self.colour_strength}")
        if self.sharpen_strength > 0 and self.sharpen_sigma <= 0:
            raise ValueError("sharpen_sigma must be > 0 when sharpening")
        return self


DEFAULT_CHAIN = ChainParams()
LINE_THRESHOLD = 2 * DEFAULT_THRESHOLD        # levels at sensitivity 1 (60)
SPOT_THRESHOLD = 2 * DEFAULT_SPOT_THRESHOLD   # levels at sensitivity 1 (120)
COLOUR_TOLERANCES = {"black_tolerance": 16.0, "cast_tolerance": 0.12, "white_tolerance": 40.0}


@dataclass
class ChainResult:
    image: np.ndarray
    mask: np.ndarray
    stages: list[dict]


def run_chain(image, params: ChainParams = DEFAULT_CHAIN, *, skip: tuple[str, ...] = ()) -> ChainResult:
    """Run the chain (``skip``: stage names to leave out, for ablations). See the module docstring."""
    unknown = set(skip) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}; the chain's stages are {STAGES}")
    params = params.validated()
    image = as_rgb(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    h, w = image.shape[:2]
    stages: list[dict] = []
    mask = np.zeros((h, w), np.uint8)
    x = image

    def timed(name, stage_params, fn):
        start = time.perf_counter()
        out = fn()
        stages.append({"name": name, "params": stage_params, "ms": round(1e3 * (time.perf_counter() - start), 3)})
        return out

    noise = timed("noise_estimate", {}, lambda: estimate_noise(x))
    stages[-1]["params"] = {"sigma": round(noise, 3)}
    if params.line_sensitivity > 0 and "lines" not in skip:
        sens = params.line_sensitivity
        mask = timed("lines", {"sensitivity": sens}, lambda: detect_lines(
            x, sens, threshold=LINE_THRESHOLD, spot_threshold=SPOT_THRESHOLD, noise_sigma=noise))
        stages[-1]["params"]["mask_fraction"] = round(float(np.count_nonzero(mask)) / mask.size, 5)
        if mask.any() and "inpaint" not in skip:
            x = timed("inpaint", {"method": "telea", "radius": 3}, lambda: inpaint(x, mask, 3.0, "telea"))
    if "inpaint" in skip:
        mask = np.zeros_like(mask)  # nothing was filled, so nothing to show
    if params.denoise_strength > 0 and "denoise" not in skip:
        x = timed("denoise", {"strength": params.denoise_strength, "method": "bilateral"},
                  lambda: denoise(x, params.denoise_strength, "bilateral", noise_sigma=noise))
    if params.colour_strength > 0 and "colour" not in skip:
        tolerances = {k: v * params.colour_tolerance for k, v in COLOUR_TOLERANCES.items()}

        start = time.perf_counter()
        estimate = estimate_colour(x, **tolerances)
        x = correct_colour(x, params.colour_strength, estimate=estimate)
        stages.append({"name": "colour", "params": {"strength": params.colour_strength,
                                                     "tolerance": params.colour_tolerance, **estimate.as_dict()},
                       "ms": round(1e3 * (time.perf_counter() - start), 3)})
    if params.sharpen_strength > 0 and "sharpen" not in skip:
        # Detail below ~2 sigma of the noise left after denoising is not sharpened.
        threshold = 2.0 * noise / (1 + params.denoise_strength if "denoise" not in skip else 1)
        x = timed("sharpen", {"strength": params.sharpen_strength, "sigma": params.sharpen_sigma,
                              "threshold": round(threshold, 2)},
                  lambda: classical.unsharp_mask(x, params.sharpen_sigma, params.sharpen_strength, threshold))
    return ChainResult(image=x if x is not image else image.copy(), mask=mask, stages=stages)


__all__ = ["ChainParams", "ChainResult", "DEFAULT_CHAIN", "STAGES", "run_chain", "COLOUR_TOLERANCES",
           "LINE_THRESHOLD", "SPOT_THRESHOLD"]
