"""Line and spot damage of the broad model: scratches, cracks and craquelure, creases, dust, hairs.

Same contract as :mod:`damage_tone` (``x`` float32 H x W x 3 levels 0-255, a :class:`Draw`,
``scale``). Lines are drawn anti-aliased into 8-bit coverage canvases (OpenCV draws anti-aliased
only into 8-bit images), then added as signed level changes: bright (+) or dark (-). The mask of
changed pixels is taken by the caller from the step's before/after difference, except for
``crease``, which returns ``(x, mask)`` so that its broad shading stays out of the mask.
"""
from __future__ import annotations

from statistics import NormalDist

import cv2
import numpy as np

from artrestore.training.damage_draw import Draw, smooth_field
from artrestore.training.damage_ranges import MASK_LEVEL

__all__ = ["scratches", "cracks", "crease", "dust", "hairs"]

_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT
# Per-channel weights of a tinted crack (dirt in a dark crack is brown; a light crack yellowish).
_DARK_TINT = np.array([0.55, 0.75, 1.0], np.float32)
_LIGHT_TINT = np.array([1.0, 0.9, 0.7], np.float32)


def _walk(rng, start, angle, step_px, steps, turn_sd):
    """(steps + 1) x 2 float points of a random walk whose heading drifts by ``turn_sd`` rad per step."""
    headings = angle + np.cumsum(np.r_[0.0, rng.normal(0, turn_sd, steps - 1)])
    moves = step_px * np.stack([np.cos(headings), np.sin(headings)], axis=1)
    return np.vstack([start, start + np.cumsum(moves, axis=0)])


def _stroke(shape, polylines, thickness):
    """Coverage (float32 0-1) and the bounding box (y0, y1, x0, x1) of anti-aliased polylines."""
    h, w = shape
    pts = np.vstack(polylines)
    pad = thickness + 3
    x0, y0 = int(max(0, np.floor(pts[:, 0].min()) - pad)), int(max(0, np.floor(pts[:, 1].min()) - pad))
    x1, y1 = int(min(w, np.ceil(pts[:, 0].max()) + pad)), int(min(h, np.ceil(pts[:, 1].max()) + pad))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    shifted = [np.int32(np.rint((p - (x0, y0)) * _ONE)) for p in polylines]
    cv2.polylines(canvas, shifted, False, 255, int(thickness), cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) / 255.0, (y0, y1, x0, x1)


def _add(x, coverage_box, levels):
    """x[box] += coverage * levels (levels: a scalar or a per-channel vector)."""
    if coverage_box is None:
        return x
    coverage, (y0, y1, x0, x1) = coverage_box
    x[y0:y1, x0:x1] += coverage[..., None] * np.asarray(levels, np.float32)
    return x


def scratches(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Bright (emulsion gone) or dark (dirt-filled) scratches, 1-5 px, straight or curved, sharp or soft."""
    h, w = x.shape[:2]
    diagonal = float(np.hypot(h, w))
    family = d.record["family"]
    for _ in range(d.integer("count")):
        e = d.detail()
        width, contrast = d.integer("width", e), d.uniform("contrast", e)
        length, polarity = d.uniform("length", e) * diagonal, d.sign("polarity", 0.65, e)
        softness = d.uniform("softness", e)
        curved = family == "curved" or (family == "mixed" and d.rng.random() < 0.5)
        turn = d.uniform("curvature", e) if curved else 0.0
        steps = 24
        start = d.rng.uniform((0, 0), (w, h))
        points = _walk(d.rng, start, float(d.rng.uniform(0, 2 * np.pi)), length / steps, steps, turn)
        box = _stroke((h, w), [points], max(1, round(width * scale)))
        if box is not None and softness > 0.3:
            coverage = cv2.GaussianBlur(box[0], (0, 0), 0.3 + softness * 0.5 * width * scale)
            # A soft edge spreads without losing the core: the blurred coverage is raised, capped at 1.
            box = (np.minimum(coverage * (1 + softness), 1.0), box[1])
        _add(x, box, polarity * contrast)
    return x


def _craquelure(d: Draw, shape, scale):
    """Coverage of a network of polygonal cells (Voronoi edges of jittered seeds) over part of the image."""
    h, w = shape
    cell = d.uniform("cell_px") * scale
    coverage, jitter = d.uniform("coverage"), d.uniform("jitter")
    seeds = np.ones((h, w), np.uint8)
    n = max(4, int(h * w / (cell * cell)))
    seeds[d.rng.integers(0, h, n), d.rng.integers(0, w, n)] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    # Jitter bends the straight cell walls into hand-drawn-looking cracks.
    gx = np.arange(w, dtype=np.float32)[None, :] + jitter * cell * smooth_field(d.rng, (h, w), cell * 1.5)
    gy = np.arange(h, dtype=np.float32)[:, None] + jitter * cell * smooth_field(d.rng, (h, w), cell * 1.5)
    labels = cv2.remap(labels.astype(np.float32), gx, gy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    edges = np.zeros((h, w), np.uint8)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    width = max(1, round(d.integer("width") * scale))
    if width > 1:
        edges = cv2.dilate(edges, np.ones((width, width), np.uint8))
    region = smooth_field(d.rng, (h, w), 0.35 * min(h, w))
    threshold = NormalDist().inv_cdf(min(max(1 - coverage, 1e-3), 1 - 1e-3))
    visible = np.clip((region - threshold) * 2.0, 0, 1)
    return edges.astype(np.float32) * visible, (0, h, 0, w)


def _branching(d: Draw, shape, scale):
    """Coverage of branching cracks: random walks that fork with probability ``branch`` per step."""
    h, w = shape
    jitter, branch = d.uniform("jitter"), d.uniform("branch")
    width = d.integer("width")
    polylines = []
    for _ in range(d.integer("count")):
        stack = [(d.rng.uniform((0, 0), (w, h)), float(d.rng.uniform(0, 2 * np.pi)), 0)]
        while stack and len(polylines) < 400:
            start, heading, depth = stack.pop()
            steps = int(d.rng.integers(6, 30)) // (depth + 1) + 2
            points = _walk(d.rng, start, heading, float(d.rng.uniform(4, 12)) * scale, steps, jitter + 0.05)
            polylines.append(points)
            if depth < 3:
                forks = np.nonzero(d.rng.random(steps) < branch)[0]
                for k in forks[:3]:
                    stack.append((points[k + 1], heading + float(d.rng.choice([-1, 1]) * d.rng.uniform(0.4, 1.2)),
                                  depth + 1))
    return _stroke((h, w), polylines, max(1, round(width * scale)))


def cracks(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Craquelure (a cell network over part of the image) or branching cracks, dark or light, tinted."""
    h, w = x.shape[:2]
    contrast, polarity, tint_mix = d.uniform("contrast"), d.sign("polarity", 0.25), d.uniform("tint_mix")
    box = _craquelure(d, (h, w), scale) if d.record["family"] == "craquelure" else _branching(d, (h, w), scale)
    tint = _DARK_TINT if polarity < 0 else _LIGHT_TINT
    return _add(x, box, polarity * contrast * (1 - tint_mix * (1 - tint)))


def crease(x: np.ndarray, d: Draw, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Folds: a broken bright line where the emulsion cracked, one side shaded a little.

    Returns ``(x, mask)``: the mask holds the line only, not the gentle shading beside it."""
    h, w = x.shape[:2]
    mask = np.zeros((h, w), bool)
    cols, rows = np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]
    reach = float(np.hypot(h, w))
    for _ in range(d.integer("count")):
        e = d.detail()
        contrast, width = d.uniform("contrast", e), d.integer("width", e)
        shade, breaks = d.uniform("shade", e), d.uniform("break_fraction", e)
        bend = d.uniform("bend", e) if d.record["family"] == "bent" else 0.0
        cx, cy = float(d.rng.uniform(0.2, 0.8) * w), float(d.rng.uniform(0.2, 0.8) * h)
        angle = float(d.rng.uniform(0, np.pi))
        cos, sin = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        along = (cols - cx) * cos + (rows - cy) * sin
        across = (rows - cy) * cos - (cols - cx) * sin
        if bend:
            across = across + np.float32(bend / max(h, w)) * along * along
        # Gaps along the fold where the emulsion held: a smooth 1-D noise above a quantile.
        coarse = np.convolve(d.rng.standard_normal(64), np.ones(4) / 2, mode="same")
        cut = NormalDist(0, float(np.std(coarse)) or 1.0).inv_cdf(max(breaks, 1e-3))
        index = np.clip((along + reach) * np.float32(63 / (2 * reach)), 0, 63).astype(np.int32)
        keep = (coarse[index] > cut).astype(np.float32)
        line = np.exp(-np.square(across * np.float32(1 / (0.7 * width * scale)))) * keep
        lift = np.float32(contrast) * line
        mask |= lift >= MASK_LEVEL
        x += lift[..., None]
        x *= (1 + np.float32(shade) * np.clip(across * np.float32(1 / (3 * scale)), -1, 1))[..., None]
    return x, mask


def dust(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Dust on the scanner glass: round specks (``specks``) or specks plus short lint fibres (``lint``)."""
    h, w = x.shape[:2]
    count, contrast, bright = d.integer("count"), d.uniform("contrast"), d.uniform("bright")
    radii = d.spread("radius", count) * scale
    centres = d.rng.uniform((0, 0), (w, h), (count, 2))
    levels = contrast * d.rng.uniform(0.5, 1.0, count) * np.where(d.rng.random(count) < bright, 1, -1)
    lint = d.record["family"] == "lint"
    canvas = np.zeros((h, w), np.uint8)  # levels quantised to 256 steps of 1/127 of the contrast
    for (px, py), radius, level, is_lint in zip(centres, radii, levels, d.rng.random(count) < (0.3 if lint else 0)):
        value = int(round(128 + 127 * level / contrast))
        if is_lint:
            points = _walk(d.rng, np.array([px, py]), float(d.rng.uniform(0, 2 * np.pi)),
                           2.0 * scale, int(d.rng.integers(3, 8)), 0.5)
            cv2.polylines(canvas, [np.int32(np.rint(points * _ONE))], False, value, 1, cv2.LINE_8, _SHIFT)
        else:
            cv2.circle(canvas, (int(px * _ONE), int(py * _ONE)), max(_ONE // 2, int(radius * _ONE)), value, -1,
                       cv2.LINE_8, _SHIFT)
    delta = np.where(canvas > 0, (canvas.astype(np.float32) - 128) * (contrast / 127), 0).astype(np.float32)
    delta = cv2.GaussianBlur(delta, (0, 0), 0.5)
    return x + delta[..., None]


def hairs(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Hairs on the glass: long thin curling strokes, dark (or bright, as on a scanned negative)."""
    h, w = x.shape[:2]
    for _ in range(d.integer("count")):
        e = d.detail()
        length, width, contrast = d.uniform("length", e) * min(h, w), d.integer("width", e), d.uniform("contrast", e)
        polarity, curl = d.sign("polarity", 0.25, e), d.uniform("curl", e)
        turn = curl if d.record["family"] == "curly" else curl * 0.3
        steps = 40
        points = _walk(d.rng, d.rng.uniform((0, 0), (w, h)), float(d.rng.uniform(0, 2 * np.pi)),
                       length / steps, steps, turn)
        _add(x, _stroke((h, w), [points], max(1, round(width * scale))), polarity * contrast)
    return x
