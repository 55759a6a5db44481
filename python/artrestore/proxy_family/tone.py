"""Ageing of the object's colour: dye response curves, dye crosstalk, yellowed varnish, exposure,
veiling flare and uneven toning.

Each function takes ``x`` (float32 H x W x 3, RGB levels 0-255, changed in place or replaced), the
strength ``s`` in [0, 1], a NumPy generator and the length ``scale`` (short side / 512), and returns
``(x, params)``: the new image and the JSON-serialisable parameters it drew.
"""
from __future__ import annotations

import numpy as np

__all__ = ["curves", "crosstalk", "varnish", "exposure", "flare", "toning", "EFFECTS"]


def _r(v) -> float:
    return round(float(v), 4)


def curves(x, s, rng, scale):
    """A monotone response curve per channel (random knots), mixed with the identity by ``s``."""
    knots_in = np.linspace(0.0, 255.0, 6)
    out = np.empty_like(x)
    params = {"mix": _r(0.8 * s), "knots": []}
    for c in range(3):
        steps = rng.dirichlet(np.full(5, 3.0))
        low = rng.uniform(0.0, 50.0 * s)
        high = 255.0 - rng.uniform(0.0, 70.0 * s)
        knots_out = low + (high - low) * np.concatenate([[0.0], np.cumsum(steps)])
        curve = (1.0 - 0.8 * s) * knots_in + 0.8 * s * knots_out
        out[:, :, c] = np.interp(x[:, :, c], knots_in, curve)
        params["knots"].append([_r(v) for v in curve])
    return out, params


def crosstalk(x, s, rng, scale):
    """Dyes bleeding into each other: a row-stochastic 3 x 3 mix (greys stay grey, colours shift)."""
    amount = 0.55 * s
    mix = rng.dirichlet(np.ones(3), size=3)
    matrix = (1.0 - amount) * np.eye(3) + amount * mix
    out = x.reshape(-1, 3) @ matrix.T.astype(np.float32)
    return out.reshape(x.shape), {"matrix": [[_r(v) for v in row] for row in matrix]}


def varnish(x, s, rng, scale):
    """A yellowed varnish or film base: blue absorbed most, red least, with some loss of contrast."""
    absorb = np.array([0.08, 0.3, 1.0]) * rng.uniform(0.6, 1.4, 3)
    transmission = np.exp(-1.1 * s * absorb).astype(np.float32)
    veil = 0.25 * s
    out = x * transmission
    out = (1.0 - veil) * out + veil * out.reshape(-1, 3).mean(axis=0)
    return out, {"transmission": [_r(v) for v in transmission], "veil": _r(veil)}


def exposure(x, s, rng, scale):
    """A reproduction exposed wrongly: a gain and a gamma, highlights clipped as a print clips them."""
    gain = float(np.exp(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0) * 0.5 * s))
    gamma = float(np.exp(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0) * 0.6 * s))
    out = 255.0 * np.power(np.clip(gain * x / 255.0, 0.0, 1.0), gamma)
    return out.astype(np.float32), {"gain": _r(gain), "gamma": _r(gamma)}


def flare(x, s, rng, scale):
    """Veiling light in the copy camera: a bright, slightly tinted, smooth glow mixed in."""
    h, w = x.shape[:2]
    cy, cx = rng.uniform(-0.3, 1.3) * h, rng.uniform(-0.3, 1.3) * w
    radius = rng.uniform(0.5, 1.5) * max(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    glow = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2.0 * radius ** 2))
    tint = 255.0 * (1.0 - rng.uniform(0.0, 0.15, 3))
    amount = 0.45 * s * (0.4 + 0.6 * glow)
    out = x * (1.0 - amount[:, :, None]) + amount[:, :, None] * tint.astype(np.float32)
    return out, {"centre": [_r(cy / h), _r(cx / w)], "radius": _r(radius / max(h, w)), "tint": [_r(v) for v in tint],
                 "amount": _r(0.45 * s)}


def toning(x, s, rng, scale):
    """Uneven toning: a slow colour wave per channel (two plane waves of a fraction of the image)."""
    h, w = x.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= max(h, w)
    xx /= max(h, w)
    amplitude = 30.0 * s
    out = x.copy()
    waves = []
    for c in range(3):
        field = np.zeros((h, w), np.float32)
        for _ in range(2):
            angle, period, phase = rng.uniform(0, np.pi), rng.uniform(0.6, 2.5), rng.uniform(0, 2 * np.pi)
            field += np.cos(2 * np.pi * (np.cos(angle) * xx + np.sin(angle) * yy) / period + phase)
            waves.append([c, _r(angle), _r(period), _r(phase)])
        weight = rng.uniform(0.5, 1.0)
        out[:, :, c] += amplitude * 0.5 * weight * field
        waves.append([c, "weight", _r(weight)])
    return out, {"amplitude": _r(amplitude), "waves": waves}


EFFECTS = {"curves": curves, "crosstalk": crosstalk, "varnish": varnish, "exposure": exposure, "flare": flare,
           "toning": toning}
