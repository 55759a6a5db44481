"""Line, crack and spot detection: RGB image in, a damage mask out.

Input: H x W x 3 ``uint8`` RGB (or float32 in [0, 1]). Output: H x W ``uint8`` mask, 255 where a
scratch, crack or dust spot was found, 0 elsewhere.

Method (on the luma, OpenCV morphology and the core's oriented runs, lengths scaled by the short
side / 512):

1. *Thin-structure residue*: black-hat (dark lines) and top-hat (bright lines) with a square of
   side ``2 * max_width + 1``, i.e. what is narrower than ``max_width`` pixels and darker/brighter
   than its surroundings, in 8-bit levels.
2. *Absolute floor*: a pixel is a candidate only when its residue exceeds ``threshold`` levels,
   ``texture_factor`` times the mean residue around it (a box with the variance of a Gaussian of
   sigma 8 px) and ``noise_factor`` times the blind noise sigma, so hair, grass, fabric and brush
   strokes, whose residue is dense and moderate, stay out while an isolated high-contrast line
   does not.
3. *Orientation*: a candidate is a line when it lies on a straight run of candidates at least
   ``min_length`` long (12 directions; and ``2 * min_length + 1`` at 24 directions with the floor
   lowered to 1 x instead of 1.5 x) and the run across it is short (blobs and dense parallel
   texture hold runs both ways). The runs come from the C++ core (``_core.oriented_runs``).
4. *Spots*: isolated peaks of the residue (its value minus its maximum on a ring just outside
   ``max_spot_radius``) above ``spot_threshold`` levels, grown back over the spot (higher floor than
   for lines: lone bright or dark points are where texture and damage look most alike).
5. The mask is dilated by one pixel to cover the soft and JPEG-ringing edges of the damage.

``sensitivity`` scales both floors (``threshold / sensitivity``); 0 turns detection off.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from artrestore import _core
from artrestore._validate import as_rgb, non_negative, to_uint8

DEFAULT_THRESHOLD = 60.0  # levels at sensitivity 1; a scratch fainter than this is left alone
DEFAULT_SPOT_THRESHOLD = 120.0  # lone dots are where texture and damage look most alike


@functools.lru_cache(maxsize=64)
def line_element(length: int, angle_deg: float) -> np.ndarray:
    """A 1-pixel line segment of ``length`` pixels through the centre of a square kernel."""
    length = max(3, int(length) | 1)  # odd, so the segment is centred
    kernel = np.zeros((length, length), np.uint8)
    c = length // 2
    dx, dy = np.cos(np.deg2rad(angle_deg)) * c, np.sin(np.deg2rad(angle_deg)) * c
    cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1, 1)
    return kernel


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def thin_residue(gray: np.ndarray, max_width: int) -> tuple[np.ndarray, np.ndarray]:
    """(black-hat, top-hat) of a uint8 luma with a square of side ``2 * max_width + 1``."""
    square = np.ones((2 * max_width + 1, 2 * max_width + 1), np.uint8)
    return (cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, square),
            cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, square))


def oriented_lines(candidates: np.ndarray, min_length: int, max_across: int, n_angles: int) -> np.ndarray:
    """Boolean map of the candidates (uint8 0/1) that lie on a run of at least ``min_length`` px along
    one of ``n_angles`` directions while the run across that direction is shorter than ``max_across``.

    The candidates are dilated by 3x3 first, so a 1-px line drawn between two of the directions
    still holds an unbroken run; the directional runs are the core's (``_core.oriented_runs``, one
    O(H x W) pass per direction whatever the length), the binary equivalent of Zana & Klein's
    supremum of openings by segments, with the perpendicular run rejecting blobs and dense texture."""
    widened = cv2.dilate(candidates, np.ones((3, 3), np.uint8))
    runs = _core.oriented_runs(widened, n_angles, max_across)
    return (candidates > 0) & (runs >= min_length)


def oriented_lines_opencv(candidates: np.ndarray, min_length: int, max_across: int, n_angles: int) -> np.ndarray:
    """The same test with OpenCV morphology (binary openings by line segments, along and across):
    the peer the core is benchmarked against (benchmarks/test_chain_speed.py). Identical to
    ``oriented_lines`` on rows and columns for odd lengths (line elements are centred, so odd)."""
    widened = cv2.dilate(candidates, np.ones((3, 3), np.uint8))
    angles = [180.0 * i / n_angles for i in range(n_angles)]
    along = [cv2.morphologyEx(widened, cv2.MORPH_OPEN, line_element(min_length, a)) for a in angles]
    across = [cv2.morphologyEx(widened, cv2.MORPH_OPEN, line_element(max_across, a)) for a in angles]
    half = n_angles // 2
    hit = np.zeros(candidates.shape, bool)
    for i in range(n_angles):
        hit |= (along[i] > 0) & (across[(i + half) % n_angles] == 0)
    return (candidates > 0) & hit


@functools.lru_cache(maxsize=16)
def ring_element(inner: int, outer: int) -> np.ndarray:
    """Ring of pixels at distance (inner, outer] from the centre."""
    r = np.arange(-outer, outer + 1)
    d2 = r[:, None] ** 2 + r[None, :] ** 2
    return ((d2 > inner ** 2) & (d2 <= outer ** 2)).astype(np.uint8)


def isolated_peaks(residue: np.ndarray, radius: int) -> np.ndarray:
    """``residue`` minus its maximum on a ring just outside ``radius`` px (uint8, saturating): high at
    the centre of a lone spot no wider than ``2 * radius``, low inside texture."""
    return cv2.subtract(residue, cv2.dilate(residue, ring_element(radius + 1, radius + 3)))


def detect_lines(image, sensitivity: float = 1.0, *, threshold: float = DEFAULT_THRESHOLD,
                 spot_threshold: float = DEFAULT_SPOT_THRESHOLD, max_width: int | None = None,
                 min_length: int | None = None, max_spot_radius: float | None = None,
                 texture_factor: float = 4.0, noise_factor: float = 4.0,
                 noise_sigma: float | None = None, grow: int = 1) -> np.ndarray:
    """Mask (uint8 0/255) of scratches, cracks and dust spots; see the module docstring.

    ``sensitivity`` >= 0 (0: empty mask); ``threshold`` / ``spot_threshold`` in 8-bit levels;
    ``max_width``, ``min_length``, ``max_spot_radius`` in pixels (default: 3, 15 and 4 at a 512 px
    short side, scaled with it; lines are sought at ``min_length`` with 1.5 x the floor and at
    ``2 * min_length + 1`` with the floor); ``noise_sigma``: the luma noise in levels (default: estimated).
    """
    image = as_rgb(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    sensitivity = non_negative(sensitivity, "sensitivity")
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    if sensitivity == 0:
        return mask
    scale = min(h, w) / 512.0
    max_width = max(1, round(3 * scale)) if max_width is None else int(max_width)
    min_length = max(5, round(15 * scale)) if min_length is None else int(min_length)
    spot_radius = 4 * scale if max_spot_radius is None else float(max_spot_radius)
    gray = _luma(image)
    if noise_sigma is None:
        from artrestore.chain.denoise import estimate_noise

        noise_sigma = estimate_noise(gray)
    floor = max(threshold / sensitivity, noise_factor * noise_sigma)
    spot_floor = max(spot_threshold / sensitivity, noise_factor * noise_sigma)
    # A box as wide as a Gaussian of sigma 8 px (same variance), O(1) per pixel at any size.
    texture_box = 2 * round(8 * max(scale, 0.25) * np.sqrt(3)) + 1

    spot_radius = max(1, round(spot_radius))
    max_across = 2 * max_width + 3  # a line of max_width, widened by the 3x3 dilation, plus slack
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spot_radius + 1, 2 * spot_radius + 1))
    line_residues = thin_residue(gray, max_width)
    spot_residues = thin_residue(gray, spot_radius + 1) if spot_radius + 1 > max_width else line_residues
    for residue, spot_residue in zip(line_residues, spot_residues):
        # Dense, moderate residue (texture) raises the local floor; a lone line barely moves it.
        local = cv2.blur(residue, (texture_box, texture_box))
        local_floor = np.maximum(floor, texture_factor * local.astype(np.float32))
        # Two scales: short runs (jagged cracks) above 1.5 x the floor, long ones above the floor;
        # the long scale needs finer angles for a 1-px line to stay inside its 3-px widening.
        for length, factor, n_angles in ((min_length, 1.5, 12), (2 * min_length + 1, 1.0, 24)):
            candidates = (residue > factor * local_floor).astype(np.uint8)
            if candidates.any():
                mask[oriented_lines(candidates, length, max_across, n_angles)] = 255
        centres = isolated_peaks(spot_residue, spot_radius) > spot_floor
        if centres.any():
            # The spot is its centre grown back over the residue that is at least half the floor.
            spots = (cv2.dilate(centres.astype(np.uint8), disc) > 0) & (spot_residue > spot_floor / 2)
            mask[spots] = 255
    if mask.any() and grow > 0:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask


__all__ = ["detect_lines", "thin_residue", "oriented_lines", "oriented_lines_opencv", "isolated_peaks",
           "ring_element", "line_element", "DEFAULT_THRESHOLD", "DEFAULT_SPOT_THRESHOLD"]
