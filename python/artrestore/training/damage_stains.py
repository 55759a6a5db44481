"""Stains, water marks and foxing of the broad damage model: tinted, multiplicative marks on the support.

Same contract as :mod:`damage_tone` (``x`` float32 H x W x 3 levels 0-255, a :class:`Draw`,
``scale``). A mark multiplies the image by ``1 - alpha * (1 - tint)``: it darkens toward the tint's
colour, as a stain absorbed by paper does. Each blob is computed only inside its bounding box.
"""
from __future__ import annotations

import cv2
import numpy as np

from artrestore.training.damage_draw import Draw, smooth_field

__all__ = ["stains", "watermark", "foxing", "TINTS"]

# Multiplicative colour of a fully stained pixel (RGB, 0-1).
TINTS = {"brown": (0.72, 0.55, 0.38), "yellow": (0.95, 0.85, 0.5), "grey": (0.7, 0.7, 0.7),
         "rust": (0.8, 0.48, 0.3), "tea": (0.85, 0.7, 0.5)}


def _blob(d: Draw, shape, centre, radius: float, edge: float, rim: float, rim_width: float):
    """(alpha, y0, y1, x0, x1): an irregular blob of about ``radius`` px inside its bounding box.

    ``edge``: the soft edge as a fraction of the radius; ``rim``: the weight of a tide line (the
    darker border a drying liquid leaves) of width ``rim_width`` (fraction of the radius)."""
    h, w = shape
    reach = radius * 1.5 + 2
    y0, y1 = int(max(0, centre[1] - reach)), int(min(h, centre[1] + reach + 1))
    x0, x1 = int(max(0, centre[0] - reach)), int(min(w, centre[0] + reach + 1))
    if y1 - y0 < 2 or x1 - x0 < 2:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    aspect = float(d.rng.uniform(0.6, 1.0))
    angle = float(d.rng.uniform(0, np.pi))
    dx, dy = xs - centre[0], ys - centre[1]
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / aspect
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    r = np.sqrt(u * u + v * v) / radius
    r = r + 0.25 * smooth_field(d.rng, r.shape, max(4.0, radius * 0.6))  # ragged outline
    alpha = 1 / (1 + np.exp(np.clip((r - 1) / max(edge, 1e-3), -30, 30)))
    if rim > 0:
        alpha = alpha * (1 - rim * 0.6) + rim * np.exp(-(((r - 1) / rim_width) ** 2))
    return np.clip(alpha, 0, 1).astype(np.float32), y0, y1, x0, x1


def _apply(x, alpha_box, tint_name, strength):
    alpha, y0, y1, x0, x1 = alpha_box
    tint = 1 - np.array(TINTS[tint_name], np.float32)
    x[y0:y1, x0:x1] *= 1 - strength * alpha[..., None] * tint
    return x


def stains(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Soft blotches or hard-edged stains with a tide line, each its own tint, size and strength."""
    h, w = x.shape[:2]
    hard = d.record["family"] == "hard"
    for _ in range(d.integer("count")):
        e = d.detail()
        size, strength, tint = d.uniform("size", e), d.uniform("strength", e), d.choice("tint", e)
        edge = d.uniform("edge", e) * (0.15 if hard else 1.0)
        rim = d.uniform("rim", e) if hard else 0.0
        centre = (float(d.rng.uniform(0, w)), float(d.rng.uniform(0, h)))
        box = _blob(d, (h, w), centre, size * min(h, w), edge, rim, 0.08)
        if box is not None:
            x = _apply(x, box, tint, strength)
    return x


def watermark(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Water marks: a faint wash inside a dried ring (``ring``: a sharp tide line; ``diffuse``: soft)."""
    h, w = x.shape[:2]
    for _ in range(d.integer("count")):
        e = d.detail()
        size, strength, tint = d.uniform("size", e), d.uniform("strength", e), d.choice("tint", e)
        rim_width = d.uniform("rim_width", e) * (1.0 if d.record["family"] == "ring" else 3.0)
        centre = (float(d.rng.uniform(0, w)), float(d.rng.uniform(0, h)))
        # rim 1: the wash inside carries 40 % of the ring's strength.
        box = _blob(d, (h, w), centre, size * min(h, w), 0.03, 1.0, rim_width)
        if box is not None:
            x = _apply(x, box, tint, strength)
    return x


def foxing(x: np.ndarray, d: Draw, scale: float) -> np.ndarray:
    """Foxing: rust-brown spots with a dark core and a faint halo, scattered or in clusters."""
    h, w = x.shape[:2]
    count = d.integer("count")
    strength, halo, tint = d.uniform("strength"), d.uniform("halo"), d.choice("tint")
    radii = d.spread("radius", count) * scale
    if d.record["family"] == "clustered":
        centres = d.rng.uniform((0, 0), (w, h), (max(1, count // 12), 2))
        pick = centres[d.rng.integers(0, len(centres), count)]
        points = pick + d.rng.normal(0, 0.05 * min(h, w), (count, 2))
    else:
        points = d.rng.uniform((0, 0), (w, h), (count, 2))
    core = np.zeros((h, w), np.float32)
    levels = d.rng.uniform(0.6, 1.0, count)
    for (px, py), radius, level in zip(points, radii, levels):
        cv2.circle(core, (int(px * 4), int(py * 4)), max(2, int(radius * 4)), float(level), -1, cv2.LINE_AA, 2)
    alpha = cv2.GaussianBlur(core, (0, 0), 0.6 * max(scale, 0.5))
    if halo > 0:
        alpha = np.maximum(alpha, halo * 0.35 * cv2.GaussianBlur(core, (0, 0), 3.0 * max(scale, 0.5)))
    tint_rgb = 1 - np.array(TINTS[tint], np.float32)
    return x * (1 - strength * alpha[..., None] * tint_rgb)
