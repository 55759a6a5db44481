"""Check-family marks: tapered Bezier scratches and film rain, fractal-tree and split-mesh cracks,
dust ellipses, foxing clusters and hairs, and fBm or mould blotches.

Same contract as :mod:`colour` (float32 RGB in [0, 1], a :class:`Knob`, ``unit``), except that
``scratches``, ``cracks`` and ``specks`` return ``(image, coverage)``: coverage (float32 H x W,
0-1) is how much of each pixel the marks cover, from which the generator builds the mask. Marks
are alpha-composited toward a target colour (not added), so they saturate as real marks do.
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.check_family.fields import fbm, value_noise
from artrestore.check_family.levels import Knob

__all__ = ["scratches", "cracks", "specks", "blotches"]

_SUB = 8  # drawing sub-pixel factor (3 fractional bits)


def _bezier(points: np.ndarray, n: int) -> np.ndarray:
    """n points on the Bezier curve with the given control points (De Casteljau, vectorised over t)."""
    t = np.linspace(0, 1, n)[:, None, None]
    p = np.broadcast_to(points, (n, *points.shape)).astype(np.float64)
    while p.shape[1] > 1:
        p = (1 - t) * p[:, :-1] + t * p[:, 1:]
    return p[:, 0]


def _composite(img, coverage, target, strength):
    a = (np.clip(coverage, 0, 1) * strength)[..., None]
    return img * (1 - a) + a * np.asarray(target, np.float32)


def scratches(img: np.ndarray, knob: Knob, unit: float):
    """Tapered strokes along cubic Bezier curves (filled outlines), or vertical flickering film rain."""
    h, w = img.shape[:2]
    n, intensity, max_width = knob["number"], knob["intensity"], knob["max_width"]
    bright = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    rng = knob.rng
    for _ in range(n):
        canvas = bright if rng.random() < 0.6 else dark
        if knob.variant == "bezier":
            a = rng.uniform((0, 0), (w, h))
            span = rng.uniform(0.15, 0.9) * np.hypot(h, w)
            direction = rng.uniform(0, 2 * np.pi)
            b = a + span * np.array([np.cos(direction), np.sin(direction)])
            bend = rng.normal(0, 0.15 * span, (2, 2))
            ctrl = np.array([a, a + (b - a) / 3 + bend[0], a + 2 * (b - a) / 3 + bend[1], b])
            path = _bezier(ctrl, 80)
            tangent = np.gradient(path, axis=0)
            normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) / (np.linalg.norm(tangent, axis=1)[:, None] + 1e-9)
            taper = np.sin(np.linspace(0.05, np.pi - 0.05, len(path))) ** 0.5
            half = 0.5 * max(0.7, rng.uniform(0.5, 1.0) * max_width * unit) * taper[:, None]
            outline = np.vstack([path + normal * half, (path - normal * half)[::-1]])
            cv2.fillPoly(canvas, [np.int32(np.rint(outline * _SUB))], 255, cv2.LINE_AA, 3)
        else:  # film rain: near-vertical, full height, intermittent
            x0 = rng.uniform(0, w)
            ys = np.arange(0, h, 4, dtype=np.float64)
            xs = x0 + 3 * unit * np.sin(ys / rng.uniform(40, 200) + rng.uniform(0, 6))
            on = value_noise(rng, (1, len(ys)), 6)[0] > -0.3
            for k in np.nonzero(on[:-1] & on[1:])[0]:
                cv2.line(canvas, (int(xs[k] * _SUB), int(ys[k] * _SUB)), (int(xs[k + 1] * _SUB), int(ys[k + 1] * _SUB)),
                         255, max(1, int(round(rng.uniform(1, max_width) * unit * 0.5))), cv2.LINE_AA, 3)
    cover_bright = bright.astype(np.float32) / 255
    cover_dark = dark.astype(np.float32) / 255
    img = _composite(img, cover_bright, (0.97, 0.96, 0.92), intensity)
    img = _composite(img, cover_dark, (0.06, 0.05, 0.04), intensity)
    return img, np.maximum(cover_bright, cover_dark) * np.float32(intensity > 0.15)


def _jagged(rng, a, b, depth, roughness):
    """Midpoint displacement between a and b: 2**depth + 1 points."""
    pts = np.array([a, b], np.float64)
    for _ in range(depth):
        mids = (pts[:-1] + pts[1:]) / 2
        seg = pts[1:] - pts[:-1]
        normal = np.stack([-seg[:, 1], seg[:, 0]], 1)
        mids += normal * rng.normal(0, roughness, (len(mids), 1))
        merged = np.empty((len(pts) + len(mids), 2))
        merged[0::2], merged[1::2] = pts, mids
        pts = merged
    return pts


def cracks(img: np.ndarray, knob: Knob, unit: float):
    """Fractal branching cracks, or a mesh of recursively split cells over part of the picture."""
    h, w = img.shape[:2]
    rng = knob.rng
    lines = []
    if knob.variant == "fractal_tree":
        todo = [(rng.uniform((0, 0), (w, h)), rng.uniform(0, 2 * np.pi), rng.uniform(40, 160) * unit, 0)
                for _ in range(knob["number"])]
        while todo and len(lines) < 300:
            start, angle, length, gen = todo.pop()
            end = start + length * np.array([np.cos(angle), np.sin(angle)])
            lines.append(_jagged(rng, start, end, 4, 0.18))
            if gen < 3:
                for _ in range(int(rng.integers(1, 3))):
                    pivot = lines[-1][int(rng.integers(4, 17))]
                    todo.append((pivot, angle + rng.choice([-1, 1]) * rng.uniform(0.3, 1.1), length * 0.6, gen + 1))
        region = np.ones((h, w), np.float32)
    else:
        cells = [(0.0, 0.0, float(w), float(h))]
        while len(cells) < max(2, knob["mesh_cells"]):
            x0, y0, x1, y1 = cells.pop(0)
            if x1 - x0 > y1 - y0:
                cut = rng.uniform(x0 + 0.3 * (x1 - x0), x1 - 0.3 * (x1 - x0))
                lines.append(_jagged(rng, (cut, y0), (cut, y1), 3, 0.12))
                cells += [(x0, y0, cut, y1), (cut, y0, x1, y1)]
            else:
                cut = rng.uniform(y0 + 0.3 * (y1 - y0), y1 - 0.3 * (y1 - y0))
                lines.append(_jagged(rng, (x0, cut), (x1, cut), 3, 0.12))
                cells += [(x0, y0, x1, cut), (x0, cut, x1, y1)]
        region = np.clip(1.5 * fbm(rng, (h, w), 140 * unit, 3) + 0.8, 0, 1)
    canvas = np.zeros((h, w), np.uint8)
    thickness = 1 if rng.random() < 0.6 or unit < 1.5 else 2
    cv2.polylines(canvas, [np.int32(np.rint(p * _SUB)) for p in lines], False, 255, thickness, cv2.LINE_AA, 3)
    coverage = canvas.astype(np.float32) / 255 * region
    return _composite(img, coverage, (0.12, 0.08, 0.05), knob["darkness"]), coverage * np.float32(
        knob["darkness"] > 0.15)


def specks(img: np.ndarray, knob: Knob, unit: float):
    """Dust as tilted ellipses (dark or bright), clusters of foxing spots, or a few hairs."""
    h, w = img.shape[:2]
    rng = knob.rng
    n, intensity, max_radius = knob["number"], knob["intensity"], knob["max_radius"] * unit
    dark = np.zeros((h, w), np.uint8)
    bright = np.zeros((h, w), np.uint8)
    target_dark = (0.05, 0.05, 0.05)
    if knob.variant == "dust_ellipses":
        for _ in range(n):
            axes = (max(1, int(rng.uniform(0.3, 1) * max_radius * _SUB)),
                    max(1, int(rng.uniform(0.2, 0.7) * max_radius * _SUB)))
            centre = (int(rng.uniform(0, w) * _SUB), int(rng.uniform(0, h) * _SUB))
            cv2.ellipse(dark if rng.random() < 0.7 else bright, centre, axes, rng.uniform(0, 180), 0, 360, 255, -1,
                        cv2.LINE_AA, 3)
    elif knob.variant == "foxing_clusters":
        target_dark = (0.45, 0.27, 0.12)
        seeds = rng.uniform((0, 0), (w, h), (max(1, n // 25), 2))
        spots = seeds[rng.integers(0, len(seeds), n)] + rng.standard_cauchy((n, 2)).clip(-8, 8) * 6 * unit
        for (px, py) in spots:
            cv2.circle(dark, (int(px * _SUB), int(py * _SUB)), max(_SUB, int(rng.uniform(0.4, 1) * max_radius * _SUB)),
                       255, -1, cv2.LINE_AA, 3)
        dark = cv2.blur(dark, (3, 3))
    else:
        for _ in range(max(1, n // 40)):
            a = rng.uniform((0, 0), (w, h))
            ctrl = a + rng.normal(0, 60 * unit, (3, 2)).cumsum(axis=0)
            path = _bezier(np.vstack([a, ctrl]), 60)
            cv2.polylines(dark, [np.int32(np.rint(path * _SUB))], False, 255, 1, cv2.LINE_AA, 3)
    cover_dark, cover_bright = dark.astype(np.float32) / 255, bright.astype(np.float32) / 255
    img = _composite(img, cover_dark, target_dark, intensity)
    img = _composite(img, cover_bright, (0.95, 0.95, 0.95), intensity)
    return img, np.maximum(cover_dark, cover_bright) * np.float32(intensity > 0.15)


def blotches(img: np.ndarray, knob: Knob, unit: float) -> np.ndarray:
    """Tea-coloured fBm stains with a tide line, or greenish-grey mould speckle."""
    h, w = img.shape[:2]
    rng = knob.rng
    extent, darkening = knob["extent"] * min(h, w), knob["darkening"]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    envelope = np.zeros((h, w), np.float32)
    for _ in range(max(1, knob["number"])):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        envelope = np.maximum(envelope, np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * extent**2)))
    if knob.variant == "fbm":
        shape = (envelope + 0.25 * fbm(rng, (h, w), 0.5 * extent + 8, 4) > 0.6).astype(np.uint8)
        rim = cv2.morphologyEx(shape, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(np.float32)
        alpha = cv2.blur(shape.astype(np.float32), (5, 5)) * 0.6 + cv2.blur(rim, (3, 3))
        target = (0.62, 0.48, 0.3)
    else:
        speckle = (value_noise(rng, (h, w), 3 * unit) > 1.0).astype(np.float32)
        alpha = cv2.blur(speckle, (3, 3)) * envelope * 1.5
        target = (0.3, 0.34, 0.26)
    return _composite(img, np.clip(alpha, 0, 1), target, darkening)
