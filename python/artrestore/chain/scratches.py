"""Long straight scratches: an oriented matched filter with Hough support (RGB in, mask out).

Input: H x W x 3 ``uint8`` RGB (or float32 in [0, 1]). Output of ``detect_scratches``: H x W
``uint8`` mask, 255 on a scratch; ``remove_scratches`` also returns the image with the mask filled
(``chain.inpaint``, Telea).

Why a second detector: film and print scratches are long, straight, thin and laid over the picture.
The chain's morphological detector (``chain.lines``) thresholds each pixel's residue, so in film
grain a faint scratch never becomes a candidate. This one averages along each direction first (the
noise of a mean of L pixels falls by sqrt(L)) and keeps only long straight segments in places where
few pixels respond in any direction (texture: fur, grass, fabric, brush strokes respond densely).
Cracks (meandering) and dust spots are left to ``chain.lines``.

Method (on the luma; lengths scale with the short side / 512):

1. *Line response* per direction (``ANGLES`` over 180 degrees): the mean luma along a ``LENGTH``-px
   line through the pixel against the same mean ``OFFSET`` px to either side; dark = min(sides) -
   centre, light = centre - max(sides), in levels. A step edge gives <= 0 (one side sits on the
   edge's own level), a thin line its contrast. Computed in the C++ core (``_core.line_flags``
   thresholds it in the same pass).
2. *Floor*: max(``FLOOR`` levels, ``NOISE_FACTOR`` x the luma noise sigma / sqrt(``LENGTH``)); a pixel
   responds above the floor divided by ``sensitivity``.
3. *Texture*, per direction: the share of pixels above the floor itself (at any sensitivity) in a
   direction more than one step away from it, in a box of ``TEXTURE_BOX`` px (a scratch's own
   response runs along it and is not texture).
4. *Segments*: per direction and polarity, OpenCV's probabilistic Hough segments of at least
   ``MIN_LENGTH`` px along that direction, with at least ``SUPPORT`` of their pixels above the floor
   and a median texture share under ``DENSITY``.
5. *Crowds*: a line with ``CROWD`` or more near-parallel lines (within 22.5 degrees) whose midpoints are
   within ``NEIGHBOURHOOD`` px is dropped (``lone_lines``): whiskers, hair, grass blades and a rim's
   highlights come in crowds; a scratch is on its own.
6. *Mask*: each kept segment and the responding pixels within 2 px of it, dilated by 1 px.

``sensitivity`` 0 turns detection off. The defaults were chosen on the training family's train and
validation splits (docs/chain.md, "Long straight scratches").
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb, non_negative, to_uint8
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.inpaint import inpaint

ANGLES = 16  # directions over 180 degrees: 11.25 degrees apart, within a 1-px drift over a LENGTH line
LENGTH = 21  # px at a 512 px short side: the averaging length of the line response
OFFSET = 3  # px: where the side means are read; a scratch is at most ~2 * OFFSET - 1 px wide
FLOOR = 10.0  # levels at sensitivity 1
NOISE_FACTOR = 5.0  # x the noise sigma of a LENGTH-px mean
TEXTURE_BOX = 41  # px
MIN_LENGTH = 60  # px at a 512 px short side
SUPPORT = 0.75  # share of a segment's pixels above the floor
DENSITY = 0.1  # largest median texture share along a kept segment (chosen on train and validation, docs/chain.md)
NEIGHBOURHOOD = 60  # px at a 512 px short side: where near-parallel lines make a crowd
CROWD = 2  # other near-parallel lines that make one a crowd (whiskers, hair), not a scratch
WORKING_SIDE = 1024  # px: a larger image is searched at this short side and its mask enlarged


def line_responses(gray: np.ndarray, length: int = LENGTH, offset: int = OFFSET, angles: int = ANGLES):
    """[(angle radians, dark response, light response)] of an H x W luma (step 1), levels: the C++
    core's ``line_responses`` (the OpenCV formulation it replaces is the tests' reference and the
    benchmarks' peer)."""
    gray = np.ascontiguousarray(gray, np.float32)
    dark, light = _core.line_responses(gray, int(length), int(offset), int(angles))
    return [(k * np.pi / angles, dark[k], light[k]) for k in range(angles)]


def detect_scratches(image, sensitivity: float = 1.0, *, min_length: int | None = None, support: float = SUPPORT,
                     density: float = DENSITY, floor: float = FLOOR, noise_factor: float = NOISE_FACTOR,
                     noise_sigma: float | None = None) -> np.ndarray:
    """Mask (uint8 0/255) of long straight scratches; see the module docstring.

    ``sensitivity`` >= 0 (0: empty mask); ``min_length`` in px (default ``MIN_LENGTH`` at a 512 px short
    side, scaled with it); ``support`` and ``density`` shares in [0, 1]; ``floor`` in levels;
    ``noise_sigma``: the luma noise in levels (default: ``chain.denoise.estimate_noise``). An image whose
    short side exceeds ``WORKING_SIDE`` is searched at that side (area-reduced; a given ``min_length``
    and ``noise_sigma`` are scaled with it, the noise as white noise averages) and the mask enlarged.
    """
    image = as_rgb(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    sensitivity = non_negative(sensitivity, "sensitivity")
    if not (0 < support <= 1 and 0 < density <= 1):
        raise ValueError(f"support and density must be in (0, 1], got {support}, {density}")
    h, w = image.shape[:2]
    if min(h, w) > WORKING_SIDE:
        # The lengths grow with the image, so full-size filtering costs the square of the side times
        # the length (24 MP: 19 s); a scratch a few pixels wide there is still one pixel at this side.
        factor = WORKING_SIDE / min(h, w)
        small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
        length = None if min_length is None else max(1, round(min_length * factor))
        found = detect_scratches(small, sensitivity, min_length=length, support=support, density=density, floor=floor,
                                 noise_factor=noise_factor,
                                 noise_sigma=None if noise_sigma is None else noise_sigma * factor)
        grown = cv2.resize(found, (w, h), interpolation=cv2.INTER_LINEAR) > 0
        return np.where(grown, np.uint8(255), np.uint8(0))
    mask = np.zeros((h, w), np.uint8)
    scale = min(h, w) / 512.0
    length = max(7, round(LENGTH * scale)) | 1
    min_length = max(2 * length, round(MIN_LENGTH * scale)) if min_length is None else int(min_length)
    if sensitivity == 0 or min(h, w) < 2 * length:
        return mask
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sigma = estimate_noise(image) if noise_sigma is None else float(noise_sigma)
    # Texture is measured at the floor itself, so that a higher sensitivity finds fainter scratches
    # without calling more of the picture texture.
    base = max(floor, noise_factor * sigma / np.sqrt(length))
    threshold = base / sensitivity
    flags = _core.line_flags(gray, length, max(1, round(OFFSET * scale)), ANGLES, float(base), float(threshold))
    bit = _core.LINE_FLAGS
    above = (flags & (bit["dark_above_floor"] | bit["light_above_floor"])) > 0  # per direction, at the floor itself
    count = above.sum(axis=0, dtype=np.uint8)
    responding = np.bitwise_or.reduce(flags, axis=0) & (bit["dark_above_threshold"] | bit["light_above_threshold"]) > 0
    box = max(3, round(TEXTURE_BOX * scale)) | 1
    votes = max(1, int(min_length * support))  # Hough's vote threshold: fewer candidates, no segment
    kept = []  # (x1, y1, x2, y2) of the segments that pass steps 1-4
    for k in range(ANGLES):
        angle = k * np.pi / ANGLES
        strong = [(flags[k] & bit[name]) > 0 for name in ("dark_above_threshold", "light_above_threshold")]
        if max(np.count_nonzero(polarity) for polarity in strong) < votes:
            continue  # no segment possible in this direction: skip its texture and Hough
        # Texture around a scratch of this direction: pixels responding in the other directions (a
        # scratch's own response, which runs along it, would otherwise count as texture).
        own = above[k].astype(np.uint8) + above[k - 1] + above[(k + 1) % ANGLES]
        texture = cv2.blur((count > own).astype(np.float32), (box, box))
        quiet = texture < density
        for polarity in strong:
            candidates = (polarity & quiet).astype(np.uint8)
            if np.count_nonzero(candidates) < votes:
                continue
            found = cv2.HoughLinesP(candidates, 1, np.pi / 180, threshold=votes,
                                    minLineLength=min_length, maxLineGap=max(2, round(4 * scale)))
            for x1, y1, x2, y2 in (() if found is None else found.reshape(-1, 4)):
                drift = abs((np.arctan2(y2 - y1, x2 - x1) - angle + np.pi / 2) % np.pi - np.pi / 2)
                if drift > np.pi / ANGLES:
                    continue  # a segment across this direction's own response is texture, not a scratch
                n = int(np.hypot(x2 - x1, y2 - y1)) + 1
                xs = np.linspace(x1, x2, n).round().astype(int)
                ys = np.linspace(y1, y2, n).round().astype(int)
                if candidates[ys, xs].mean() < support or np.median(texture[ys, xs]) >= density:
                    continue
                kept.append((int(x1), int(y1), int(x2), int(y2)))
    segments = np.zeros((h, w), np.uint8)
    for x1, y1, x2, y2 in lone_lines(kept, np.pi / ANGLES, NEIGHBOURHOOD * scale):
        cv2.line(segments, (x1, y1), (x2, y2), 1, 1)
    if not segments.any():
        return mask
    near = cv2.dilate(segments, np.ones((5, 5), np.uint8)).astype(bool)
    mask[(near & responding) | segments.astype(bool)] = 255
    return cv2.dilate(mask, np.ones((3, 3), np.uint8))


def lone_lines(segments, step: float, reach: float) -> list:
    """The ``segments`` (x1, y1, x2, y2) whose line has fewer than ``CROWD`` other lines within ``reach``
    px (midpoints) and 2 ``step`` radians of its direction. Segments within 1 step and 3 px of one
    another's line are one line (Hough finds a scratch in pieces and at neighbouring angles); a crowd
    of near-parallel thin lines is whiskers, hair, grass blades or a rim's highlights, not scratches."""
    if not segments:
        return []
    a = np.asarray(segments, np.float64)
    mid = (a[:, :2] + a[:, 2:]) / 2
    angle = np.arctan2(a[:, 3] - a[:, 1], a[:, 2] - a[:, 0]) % np.pi
    unit = np.stack([np.cos(angle), np.sin(angle)], 1)
    turn = np.abs((angle[:, None] - angle[None, :] + np.pi / 2) % np.pi - np.pi / 2)
    offset = mid[None, :, :] - mid[:, None, :]  # [i, j]: j's midpoint seen from i's
    across = np.abs(offset[..., 0] * unit[:, None, 1] - offset[..., 1] * unit[:, None, 0])
    line = np.arange(len(a))
    for i, j in zip(*np.nonzero((turn <= step) & (across <= 3))):  # union of the pieces of one line
        ri, rj = line[i], line[j]
        line[line == max(ri, rj)] = min(ri, rj)
    near = (turn <= 2 * step) & (np.hypot(offset[..., 0], offset[..., 1]) <= reach) & (line[:, None] != line[None, :])
    crowd = np.array([len(set(line[near[i]])) for i in range(len(a))])
    return [tuple(map(int, s)) for s, c in zip(a, crowd) if c < CROWD]


def remove_scratches(image, sensitivity: float = 1.0, **options) -> tuple[np.ndarray, np.ndarray]:
    """(image with its long straight scratches filled by Telea inpainting, their mask uint8 0/255).
    ``options`` go to ``detect_scratches``; ``inpaint`` checks the image and copies it when nothing was found."""
    mask = detect_scratches(image, sensitivity, **options)
    return inpaint(image, mask), mask


__all__ = ["detect_scratches", "remove_scratches", "line_responses", "lone_lines", "CROWD", "WORKING_SIDE",
           "NEIGHBOURHOOD", "ANGLES", "LENGTH", "OFFSET", "FLOOR",
           "NOISE_FACTOR", "MIN_LENGTH", "SUPPORT", "DENSITY", "TEXTURE_BOX"]
