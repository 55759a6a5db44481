"""Marks on the object: abrasion, tears, crazing, specks, paint losses (opaque: they cover the
picture) and blots (translucent: they tint it).

Each function takes ``x`` (float32 H x W x 3, RGB levels 0-255), the strength ``s`` in [0, 1], a
NumPy generator and ``scale`` (short side / 512), and returns ``(x, params, cover)``: the new image,
the JSON-serialisable parameters it drew, and the opacity (float32 H x W in [0, 1]) with which its
marks cover each pixel, or None for a tint (``generator`` turns cover into the mask).
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["abrasion", "tears", "crazing", "specks", "losses", "blots", "EFFECTS"]

_SUB = 4  # sub-pixel bits of OpenCV's drawing calls (anti-aliased lines at 1/16 px)


def _r(v) -> float:
    return round(float(v), 4)


def _pts(points: np.ndarray) -> np.ndarray:
    return np.rint(points * (1 << _SUB)).astype(np.int32)


def _composite(x, paint: np.ndarray, cover: np.ndarray):
    """Lay ``paint`` (H x W x 3) over ``x`` with opacity ``cover`` (H x W)."""
    a = cover[:, :, None]
    return x * (1.0 - a) + paint * a


def _tone(rng, dark_share: float) -> np.ndarray:
    """A mark's colour: near black (dirt, ink) or near the paper's white (exposed base)."""
    if rng.random() < dark_share:
        return rng.uniform(5, 70) + rng.uniform(-8, 8, 3)
    return rng.uniform(200, 250) + rng.uniform(-10, 5, 3)


def abrasion(x, s, rng, scale):
    """Many short, thin, pale strokes in all directions (a surface rubbed against others)."""
    h, w = x.shape[:2]
    count = int(15 + 220 * s)
    cover = np.zeros((h, w), np.float32)
    paint = np.empty_like(x)
    paint[:] = _tone(rng, 0.15)
    diag = float(np.hypot(h, w))
    for _ in range(count):
        start = rng.uniform([0, 0], [w, h])
        angle, length = rng.uniform(0, np.pi), rng.uniform(0.005, 0.05) * diag
        end = start + length * np.array([np.cos(angle), np.sin(angle)])
        cv2.line(cover, tuple(_pts(start)), tuple(_pts(end)), float(rng.uniform(0.4, 1.0)),
                 max(1, int(round(scale))), cv2.LINE_AA, _SUB)
    return _composite(x, paint, cover), {"count": count}, cover


def tears(x, s, rng, scale):
    """A few long jagged lines (tears, deep scratches): random walks, dark or pale, 1-4 px wide."""
    h, w = x.shape[:2]
    count = 1 + int(round(5 * s))
    out, total = x, np.zeros((h, w), np.float32)
    params = []
    for _ in range(count):
        n = int(rng.integers(8, 30))
        heading = rng.uniform(0, 2 * np.pi)
        headings = heading + np.cumsum(rng.normal(0, 0.35, n))
        step = rng.uniform(0.02, 0.06) * max(h, w)
        points = rng.uniform([0, 0], [w, h]) + np.cumsum(step * np.stack([np.cos(headings), np.sin(headings)], 1), 0)
        width = max(1, int(round(rng.uniform(1, 1 + 3 * s) * scale)))
        colour = _tone(rng, 0.5)
        cover = np.zeros((h, w), np.float32)
        cv2.polylines(cover, [_pts(points)], False, float(rng.uniform(0.7, 1.0)), width, cv2.LINE_AA, _SUB)
        paint = np.empty_like(x)
        paint[:] = colour
        out = _composite(out, paint, cover)
        np.maximum(total, cover, out=total)
        params.append({"points": n, "width": width, "colour": [_r(v) for v in colour]})
    return out, {"tears": params}, total


def crazing(x, s, rng, scale):
    """A crack network over part of the picture: the edges of a Voronoi tessellation, thin and dark."""
    h, w = x.shape[:2]
    centre = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
    radius = (0.2 + 0.6 * s) * max(h, w)
    cell = rng.uniform(14, 40) * scale
    n = int(min(4000, np.pi * radius ** 2 / cell ** 2))
    seeds = centre + rng.uniform(-radius, radius, (n, 2))
    seeds = seeds[(seeds[:, 0] > 0) & (seeds[:, 0] < w - 1) & (seeds[:, 1] > 0) & (seeds[:, 1] < h - 1)]
    cover = np.zeros((h, w), np.float32)
    if len(seeds) >= 2:
        subdiv = cv2.Subdiv2D((0, 0, w, h))
        subdiv.insert([tuple(map(float, p)) for p in seeds])
        facets, _ = subdiv.getVoronoiFacetList([])
        opacity = float(rng.uniform(0.4, 0.6 + 0.4 * s))
        cv2.polylines(cover, [_pts(np.asarray(f, np.float64)) for f in facets], True, opacity, 1, cv2.LINE_AA, _SUB)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        inside = np.clip(1.5 - np.hypot(xx - centre[0], yy - centre[1]) / radius * 1.5, 0.0, 1.0)
        cover *= inside
    paint = np.empty_like(x)
    paint[:] = _tone(rng, 0.85)
    return _composite(x, paint, cover), {"cells": len(seeds), "cell_px": _r(cell), "radius": _r(radius)}, cover


def specks(x, s, rng, scale):
    """Small opaque specks (mould, dirt, pinholes): filled ellipses, black or white."""
    h, w = x.shape[:2]
    count = int(10 + 350 * s)
    cover = np.zeros((h, w), np.float32)
    paint = np.empty_like(x)
    dark = rng.random() < 0.6
    paint[:] = _tone(rng, 1.0 if dark else 0.0)
    for _ in range(count):
        centre = rng.uniform([0, 0], [w, h])
        axes = np.maximum(0.5, rng.uniform(0.4, 1.0 + 2.5 * s, 2) * scale)
        cv2.ellipse(cover, (_pts(centre)[0], _pts(centre)[1]), (int(axes[0] * 16), int(axes[1] * 16)),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA, _SUB)
    return _composite(x, paint, cover), {"count": count, "dark": bool(dark)}, cover


def losses(x, s, rng, scale):
    """Paint or emulsion lost in irregular patches, showing the pale ground beneath."""
    h, w = x.shape[:2]
    count = 1 + int(12 * s)
    cover = np.zeros((h, w), np.float32)
    ground = np.array([232.0, 224.0, 205.0]) + rng.uniform(-12, 12, 3)
    for _ in range(count):
        centre = rng.uniform([0, 0], [w, h])
        radius = rng.uniform(3, 6 + 14 * s) * scale
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        polygon = centre + (radius * rng.uniform(0.4, 1.2, 9))[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
        cv2.fillPoly(cover, [_pts(polygon)], 1.0, cv2.LINE_AA, _SUB)
    paint = np.empty_like(x)
    paint[:] = ground
    return _composite(x, paint, cover), {"count": count, "ground": [_r(v) for v in ground]}, cover


def blots(x, s, rng, scale):
    """Translucent blots (ink, tea, water) with soft edges: the picture shows through, tinted."""
    h, w = x.shape[:2]
    count = 1 + int(3 * s)
    field = np.zeros((h, w), np.float32)
    for _ in range(count):
        centre = rng.uniform([0, 0], [w, h])
        radius = rng.uniform(0.03, 0.06 + 0.12 * s) * min(h, w)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
        polygon = centre + (radius * rng.uniform(0.6, 1.3, 12))[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
        cv2.fillPoly(field, [_pts(polygon)], 1.0, cv2.LINE_AA, _SUB)
    edge = max(1.0, rng.uniform(1, 8) * scale)
    field = cv2.GaussianBlur(field, (0, 0), edge)
    tint = rng.choice([np.array([0.75, 0.6, 0.4]), np.array([0.45, 0.5, 0.7]), np.array([0.7, 0.7, 0.65])])
    opacity = 0.2 + 0.5 * s
    factor = 1.0 - opacity * field[:, :, None] * (1.0 - tint.astype(np.float32))
    return x * factor, {"count": count, "tint": [_r(v) for v in tint], "opacity": _r(opacity)}, None


EFFECTS = {"abrasion": abrasion, "tears": tears, "crazing": crazing, "specks": specks, "losses": losses,
           "blots": blots}
