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
from artrestore._validate import as_rgb, non_negative, to_uint8
from artrestore.chain.colour import affine_lut, apply_lut, correct_colour, estimate_colour, unclipped_top
from artrestore.chain.denoise import denoise, estimate_noise
from artrestore.chain.inpaint import inpaint
from artrestore.chain.lines import detect_lines

STAGES = ("lines", "inpaint", "denoise", "colour", "sharpen")


@dataclass(frozen=True)
class ChainParams:
    """Strengths of the chain's stages (0 switches a stage off).

    ``line_sensitivity``: detection floors are ``lines.DEFAULT_THRESHOLD / sensitivity`` levels (60 for
    lines, 120 for spots at 1). ``denoise_strength``: filter sigma as a multiple of the estimated
    noise above its tolerance; ``noise_ceiling``: noise estimates (levels) above it are taken for
    texture, and denoising fades out up to 1.5 x it. ``colour_strength``: fraction (0-1) of the
    estimated colour/fading correction; ``cast_tolerance``: the dead zone of the cast correction in
    log gain (a scene's own colour reads as a cast of up to ~0.2); ``black_tolerance`` /
    ``white_tolerance``: the fading dead zones in levels (a black point lifted by less, or a white
    point short of 255 by less, is taken for the scene's own tonality: haze, a low-key photograph).
    ``sharpen_strength`` / ``sharpen_sigma`` (px): the unsharp mask. The defaults of the fields
    are the chain as it was before a field existed (a router fitted then loads unchanged);
    ``DEFAULT_CHAIN`` is the classical path's setting.
    """
    line_sensitivity: float = 0.0
    denoise_strength: float = 0.0
    noise_ceiling: float = 6.0
    colour_strength: float = 0.5
    cast_tolerance: float = 0.3
    sharpen_strength: float = 0.0
    sharpen_sigma: float = 1.0
    black_tolerance: float = 16.0
    white_tolerance: float = 60.0

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
            non_negative(value, f"chain parameter {name}")
        if self.colour_strength > 1:
            raise ValueError(f"colour_strength must be in [0, 1], got {self.colour_strength}")
        if self.sharpen_strength > 0 and self.sharpen_sigma <= 0:
            raise ValueError("sharpen_sigma must be > 0 when sharpening")
        return self


# The classical path's fixed setting: of the outcome grid's 840 settings, the best score (mean gain
# less twice the share of images left below the input, per severity) on the broad damage model's
# train-split images among those that lose at no severity on average and keep 90 % of the clean
# images at >= 38 dB (training.chain_fit.choose_default, CLEAN_SHARE; docs/chain.md): three
# quarters of the blind colour correction, casts only beyond 0.3 in log gain, fading only beyond
# a black lift of 24 levels and a white deficit of 90 (chosen 2026-12-06, when those dead zones
# joined the grid; before: half the correction, 16 / 60 levels, which left 12 % of the clean
# training images under 38 dB and 18 % of light damage below the input). Lines, denoising and
# sharpening are off: adding any of them lowered that score; ml_guided turns them on where the
# router predicts a gain.
DEFAULT_CHAIN = ChainParams(colour_strength=0.75, black_tolerance=24.0, white_tolerance=90.0)


@dataclass
class ChainResult:
    image: np.ndarray
    mask: np.ndarray
    stages: list[dict]


def run_chain(image, params: ChainParams = DEFAULT_CHAIN, *, skip: tuple[str, ...] = (),
              noise_sigma: float | None = None, colour_map=None) -> ChainResult:
    """Run the chain (``skip``: stage names to leave out, for ablations; ``noise_sigma``: the input's
    luma noise in levels if already known; ``colour_map``: ``(gains, offsets)`` per channel, a
    colour map predicted by the chain's router, used by the colour stage instead of the blind
    estimate, at ``colour_strength``). See the module docstring.

    Each stage reads only the previous stage's image, ``params`` and the input's noise estimate, so
    running the stages one call at a time (``skip`` the others, pass ``noise_sigma``) gives the same
    image as one call - what the training code's search over settings relies on."""
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

    if noise_sigma is None:
        noise = timed("noise_estimate", {}, lambda: estimate_noise(x))
        stages[-1]["params"] = {"sigma": round(noise, 3)}
    else:
        noise = float(noise_sigma)
    if params.line_sensitivity > 0 and "lines" not in skip:
        sens = params.line_sensitivity
        mask = timed("lines", {"sensitivity": sens}, lambda: detect_lines(
            x, sens, noise_sigma=noise))
        stages[-1]["params"]["mask_fraction"] = round(float(np.count_nonzero(mask)) / mask.size, 5)
        if mask.any() and "inpaint" not in skip:
            x = timed("inpaint", {"method": "telea", "radius": 3}, lambda: inpaint(x, mask, 3.0, "telea"))
    if "inpaint" in skip:
        mask = np.zeros_like(mask)  # nothing was filled, so nothing to show
    if params.denoise_strength > 0 and "denoise" not in skip:
        x = timed("denoise", {"strength": params.denoise_strength, "ceiling": params.noise_ceiling,
                              "method": "bilateral"},
                  lambda: denoise(x, params.denoise_strength, "bilateral", noise_sigma=noise,
                                  ceiling=params.noise_ceiling))
    if params.colour_strength > 0 and "colour" not in skip:

        start = time.perf_counter()
        if colour_map is None:
            estimate = estimate_colour(x, cast_tolerance=params.cast_tolerance,
                                       black_tolerance=params.black_tolerance,
                                       white_tolerance=params.white_tolerance)
            x = correct_colour(x, params.colour_strength, estimate=estimate)
            recorded = {"cast_tolerance": params.cast_tolerance, **estimate.as_dict()}
        else:
            gains, offsets = (np.asarray(v, np.float64).reshape(3) for v in colour_map)
            x = apply_lut(x, affine_lut(gains, offsets, unclipped_top(x), params.colour_strength))
            recorded = {"learned_gain": [round(float(v), 4) for v in gains],
                        "learned_offset": [round(float(v), 2) for v in offsets]}
        stages.append({"name": "colour", "params": {"strength": params.colour_strength, **recorded},
                       "ms": round(1e3 * (time.perf_counter() - start), 3)})
    if params.sharpen_strength > 0 and "sharpen" not in skip:
        # Detail below ~2 sigma of the noise left after denoising is not sharpened.
        threshold = 2.0 * noise / (1 + params.denoise_strength)
        x = timed("sharpen", {"strength": params.sharpen_strength, "sigma": params.sharpen_sigma,
                              "threshold": round(threshold, 2)},
                  lambda: classical.unsharp_mask(x, params.sharpen_sigma, params.sharpen_strength, threshold))
    return ChainResult(image=x if x is not image else image.copy(), mask=mask, stages=stages)


__all__ = ["ChainParams", "ChainResult", "DEFAULT_CHAIN", "STAGES", "run_chain"]
