"""Ageing of chromogenic colour photographs (C-prints, colour slides, instant prints; 1950s-1990s).

In the density (log10) domain of three dyes with side absorptions (a 3 x 3 matrix per stock): first-order fading
``A' = A * exp(-k t)`` at per-dye rates from stock presets (dark storage: cyan or yellow fastest; light: magenta
or yellow), jittered, with self-shielding under light; yellowish by-products and a yellow-brown (rarely pinkish)
D-min stain; a smooth field of uneven fading (album edge, mat window, gradient, blotches); surface haze lifting the
blacks. Local marks (the mask): scratches removing the top dye layer(s) in print or film stack order, dark base
scratches on slides, abrasions, fingerprints, dust and mould spots, cracks with a sheen along them.
Input: ``clean`` uint8 H x W x 3 RGB (or float32 in [0, 1]), ``severity`` in ``SEVERITIES``, integer ``seed``.
Output: ``(damaged uint8 H x W x 3 sRGB, mask bool H x W, record of every draw)``; spatial scales relative to a
512 px short side. Written apart from the project's other damage generators, from photographic science only.
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from artrestore._validate import damage_input, to_uint8

__all__ = ["VERSION", "SEVERITIES", "STOCKS", "damage", "dye_fade"]

VERSION = "dyes-1"
SEVERITIES = ("light", "moderate", "severe")
_SALT = b"artrestore-ageing-dyes-chromogenic"
_LN10 = float(np.log(10.0))

# sRGB code value -> linear transmittance/reflectance -> density; floor D = 3 (deep slide shadows).
_v = np.arange(256, dtype=np.float64) / 255.0
_LIN = np.where(_v <= 0.04045, _v / 12.92, ((_v + 0.055) / 1.055) ** 2.4)
_D_IN = (-np.log10(np.clip(_LIN, 1e-3, 1.0))).astype(np.float32)
# Linear -> sRGB uint8 on a fine grid: an indexed lookup is much faster than a power per pixel.
_g = np.arange(65536, dtype=np.float64) / 65535.0
_OUT = to_uint8(np.where(_g <= 0.0031308, 12.92 * _g, 1.055 * _g ** (1 / 2.4) - 0.055))

# Stock presets: (support, storage, relative fading rates of cyan, magenta, yellow, stain factor). Values follow the
# published ranking of dye stabilities (Wilhelm & Brower 1993) qualitatively, not quantitatively.
STOCKS = {
    "ektacolor_print_dark": ("print", "dark", (1.0, 0.3, 0.55), 1.0),  # 1970s C-print: cyan goes, red cast, stain
    "agfacolor_print_dark": ("print", "dark", (1.0, 0.45, 0.9), 0.8),  # cyan and yellow: magenta-red cast
    "ektachrome_slide_dark": ("slide", "dark", (0.75, 0.25, 1.0), 0.4),  # E-3/E-4: yellow and cyan: magenta cast
    "kodachrome_slide_dark": ("slide", "dark", (0.3, 0.2, 1.0), 0.2),  # stable except the yellow dye: blue cast
    "print_light_display": ("print", "light", (0.5, 1.0, 0.65), 0.5),  # magenta bleaches first: green cast
    "print_light_yellow": ("print", "light", (0.45, 0.6, 1.0), 0.4),  # yellow first: cold blue
    "slide_projection": ("slide", "light", (0.55, 0.85, 1.0), 0.2),  # projector lamp bleaches yellow and magenta
    "instant_print": ("print", "dark", (0.7, 0.8, 0.5), 2.0),  # Polacolor / SX-70: strong yellowing, flat image
}
_FADE = {"light": (0.08, 0.24), "moderate": (0.28, 0.5), "severe": (0.55, 0.85)}  # loss of the fastest dye
_STAIN = {"light": (0.02, 0.08), "moderate": (0.06, 0.17), "severe": (0.14, 0.36)}  # blue D-min rise
_HAZE = {"light": (0.0, 0.012), "moderate": (0.004, 0.025), "severe": (0.01, 0.05)}
# Probability of each kind of local mark and its maximum count, per severity.
_MARKS = {"light": {"scratch": (0.3, 2), "abrasion": (0.08, 1), "fingerprint": (0.06, 1), "spots": (0.35, 8),
                    "cracks": (0.04, 1)},
          "moderate": {"scratch": (0.55, 4), "abrasion": (0.25, 2), "fingerprint": (0.18, 1), "spots": (0.6, 25),
                       "cracks": (0.15, 3)},
          "severe": {"scratch": (0.8, 8), "abrasion": (0.45, 3), "fingerprint": (0.3, 2), "spots": (0.85, 45),
                     "cracks": (0.35, 6)}}


def dye_fade(density, mix, retained, shield=0.0, removal=None):
    """Fade dyes in density space: analytic amounts ``A = mix^-1 D`` lose ``max(A, 0) * (1 - retained)`` (scaled by
    ``(1 - exp(-shield A)) / (shield A)`` for self-shielding), then a fraction ``removal`` of what is left (a layer
    scratched away); returns (new density, lost analytic amounts from fading).

    ``density`` ... x 3, ``mix`` 3 x 3 (column j: spectral density of dye j in R, G, B), ``retained`` broadcastable."""
    amounts = density @ np.linalg.inv(mix).T.astype(np.float32)
    loss = np.maximum(amounts, 0.0) * (1.0 - retained)
    if shield > 0:
        x = np.maximum(shield * np.maximum(amounts, 0.0), 1e-4)
        loss *= -np.expm1(-x) / x
    if removal is None:  # linear in the amounts, so only the loss needs mixing back
        return density - loss @ mix.T.astype(np.float32), loss
    return ((amounts - loss) * (1.0 - removal)) @ mix.T.astype(np.float32), loss


def _u(rng, lo_hi):
    return float(rng.uniform(*lo_hi))


def _field(rng, h, w, mode):
    """Smooth positive field of mean 1 (how much light or air a region got), built small and upsampled."""
    gh, gw = (48, max(8, round(48 * w / h))) if h <= w else (max(8, round(48 * h / w)), 48)
    y, x = np.mgrid[0:gh, 0:gw].astype(np.float32)
    y, x = y / (gh - 1), x / (gw - 1)
    draws = {"mode": mode}
    if mode == "edge":  # one side stuck out of an album or a pile
        side, width = int(rng.integers(4)), _u(rng, (0.1, 0.45))
        g = np.exp(-(y, 1 - y, x, 1 - x)[side] / width)
        draws.update(side=side, width=width)
    elif mode == "window":  # a mat shielded the border while the centre was displayed
        border, soft = _u(rng, (0.03, 0.12)), _u(rng, (0.01, 0.04))
        g = np.clip((np.minimum(np.minimum(x, 1 - x), np.minimum(y, 1 - y)) - border) / soft + 0.5, 0, 1)
        draws.update(border=border, soft=soft)
    elif mode == "rim":  # air reaches the edges first: oxidative stain grows inwards from them
        width = _u(rng, (0.03, 0.2))
        g = np.exp(-np.minimum(np.minimum(x, 1 - x), np.minimum(y, 1 - y)) / width)
        draws.update(width=width)
    elif mode == "gradient":
        angle = _u(rng, (0, 2 * np.pi))
        g = x * np.cos(angle) + y * np.sin(angle)
        draws.update(angle=angle)
    elif mode == "blotchy":
        n = int(rng.integers(3, 7))
        g = cv2.resize(rng.standard_normal((n, n)).astype(np.float32), (gw, gh), interpolation=cv2.INTER_CUBIC)
        draws.update(cells=n)
    else:
        g = np.full_like(x, 0.5)
    g = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
    amp = 0.0 if mode == "uniform" else _u(rng, (0.15, 0.6))
    f = np.maximum(1.0 + amp * (2.0 * g - 1.0), 0.05)
    draws["amplitude"] = amp
    return cv2.resize((f / f.mean()).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR), draws


def _walk(rng, start, angle, steps, step, turn):
    """Points of a gently turning path (scratches, cracks)."""
    angles = angle + np.cumsum(rng.normal(0, turn, steps))
    pts = start + np.cumsum(np.stack([np.cos(angles), np.sin(angles)], 1) * step, 0)
    return np.vstack([start, pts]).round().astype(np.int32)


def _marks(rng, h, w, support, severity):
    """Draw local marks: removal (H x W x 3 layer fractions), added density, silvering field, mask, record."""
    s, short = min(h, w) / 512.0, min(h, w)
    order = [0, 1, 2] if support == "print" else [2, 1, 0]  # dye layers from the surface down
    removal = np.zeros((h, w, 3), np.float32)
    dadd = np.zeros((h, w, 3), np.float32)
    silver, mask, rec = None, np.zeros((h, w), bool), []
    thick = lambda lo, hi: max(1, round(s * rng.uniform(lo, hi)))
    canvas = lambda: np.zeros((h, w), np.uint8)

    def take(c):  # canvas -> coverage 0-1, marked in the mask where it is clearly visible
        f = c.astype(np.float32) / 255.0
        mask[...] |= f > 0.25
        return f

    for kind, (p, nmax) in _MARKS[severity].items():
        if rng.random() >= p:
            continue
        n = int(rng.integers(1, nmax + 1))
        if kind == "scratch":
            depth = {"top": canvas(), "mid": canvas(), "deep": canvas()}
            for _ in range(n):
                c = depth[str(rng.choice(["top", "mid", "deep"], p=[0.5, 0.3, 0.2]))]
                length, steps = rng.uniform(0.08, 0.6) * np.hypot(h, w), 16
                pts = _walk(rng, rng.uniform((0, 0), (w, h)), rng.uniform(0, 2 * np.pi), steps, length / steps, 0.06)
                cv2.polylines(c, [pts], False, 255, thick(0.7, 2.2), cv2.LINE_AA)
            top, second = _u(rng, (0.5, 1.0)), _u(rng, (0.4, 1.0))
            vec = {"top": np.zeros(3, np.float32), "mid": np.zeros(3, np.float32), "deep": np.ones(3, np.float32)}
            vec["top"][order[0]] = top
            vec["mid"][order[0]], vec["mid"][order[1]] = 1.0, second
            dark = _u(rng, (0.4, 1.2))
            for name, c in depth.items():
                if c.any():
                    f = take(c)[..., None]
                    if name == "deep" and support == "slide":  # a base scratch scatters the projector's light
                        dadd += f * dark
                    else:
                        np.maximum(removal, f * vec[name], out=removal)
            rec.append({"kind": kind, "count": n, "top_removed": top, "second_removed": second, "base_density": dark})
        elif kind == "abrasion":  # scuffing: many short parallel hairlines wearing the top layer
            c, frac = canvas(), _u(rng, (0.2, 0.6))
            for _ in range(n):
                cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                (rx, ry), ang = rng.uniform(0.05, 0.2, 2) * short, _u(rng, (0, np.pi))
                for _ in range(int(rng.integers(15, 50))):
                    a, r = rng.uniform(0, 2 * np.pi), np.sqrt(rng.random())
                    p0 = np.array([cx + rx * r * np.cos(a), cy + ry * r * np.sin(a)])
                    d = np.array([np.cos(ang + rng.normal(0, 0.2)), np.sin(ang + rng.normal(0, 0.2))])
                    p1 = p0 + d * rng.uniform(0.02, 0.08) * short
                    cv2.line(c, tuple(p0.round().astype(int)), tuple(p1.round().astype(int)), 255, thick(0.5, 1.3),
                             cv2.LINE_AA)
            removal[..., order[0]] = np.maximum(removal[..., order[0]], take(c) * frac)
            rec.append({"kind": kind, "count": n, "top_removed": frac})
        elif kind == "fingerprint":  # skin acids fade the dyes and sebum yellows along the ridges
            fade, stain = _u(rng, (0.05, 0.35)), _u(rng, (0.05, 0.25))
            for _ in range(n):
                size = rng.uniform(0.08, 0.16) * short
                r0 = int(size * 0.6) + 2
                cx, cy, ang = int(rng.integers(0, w)), int(rng.integers(0, h)), _u(rng, (0, np.pi))
                yy, xx = np.mgrid[-r0:r0 + 1, -r0:r0 + 1].astype(np.float32)
                u, v = xx * np.cos(ang) + yy * np.sin(ang), -xx * np.sin(ang) + yy * np.cos(ang)
                rr = np.sqrt((u / (0.5 * size * rng.uniform(0.65, 0.8))) ** 2 + (v / (0.5 * size)) ** 2)
                # Off-centre loops; ridges no finer than 3 px so a small image shows a smudge, not moire.
                wob = rng.uniform(0.5, 1.5) * np.sin(np.arctan2(v, u) + rng.uniform(0, 6.3))
                ridges = 0.5 + 0.5 * np.cos(2 * np.pi * rr * min(rng.uniform(9, 14), size / 6) + wob)
                inten = np.clip((1 - rr) / 0.2, 0, 1) * (0.35 + 0.65 * ridges)
                y0, y1, x0, x1 = max(cy - r0, 0), min(cy + r0 + 1, h), max(cx - r0, 0), min(cx + r0 + 1, w)
                if y1 > y0 and x1 > x0:
                    patch = inten[y0 - cy + r0:y1 - cy + r0, x0 - cx + r0:x1 - cx + r0]
                    mask[y0:y1, x0:x1] |= patch > 0.3
                    removal[y0:y1, x0:x1] = np.maximum(removal[y0:y1, x0:x1], patch[..., None] * fade)
                    dadd[y0:y1, x0:x1] += patch[..., None] * stain * np.array([0.25, 0.5, 1.0], np.float32)
            rec.append({"kind": kind, "count": n, "fade": fade, "stain": stain})
        elif kind == "spots":  # dust (dark, sharp) and mould (fuzzy, eats the gelatin, greyish halo)
            dust, mould = canvas(), canvas()
            n_mould = int(rng.binomial(n, 0.4))
            for i in range(n):
                x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
                if i < n_mould:
                    for _ in range(int(rng.integers(1, 4))):
                        o = rng.normal(0, 2.5 * s, 2)
                        cv2.circle(mould, (int(x + o[0]), int(y + o[1])), max(1, round(s * rng.uniform(2, 7))), 255,
                                   -1, cv2.LINE_AA)
                else:
                    cv2.circle(dust, (x, y), max(1, round(s * rng.uniform(0.5, 2.5))), 255, -1, cv2.LINE_AA)
            dark, eaten, tint = _u(rng, (0.4, 1.5)), _u(rng, (0.3, 0.9)), _u(rng, (0.03, 0.2))
            dust_rgb = rng.uniform(0.85, 1.15, 3)  # dust and lint are not quite neutral
            if dust.any():
                dadd += take(dust)[..., None] * (dark * dust_rgb).astype(np.float32)
            if mould.any():
                f = cv2.GaussianBlur(take(mould), (0, 0), max(0.6, 1.2 * s))
                mask[...] |= f > 0.25
                np.maximum(removal, f[..., None] * eaten, out=removal)
                dadd += f[..., None] * tint * np.array([0.6, 0.8, 1.0], np.float32)
            rec.append({"kind": kind, "count": n, "mould": n_mould, "dust_density": dark, "dust_rgb": dust_rgb.tolist(),
                        "mould_eaten": eaten, "mould_tint": tint})
        elif kind == "cracks":  # split emulsion shows the base; a grey, faintly bluish sheen (silvering) lines it
            c = canvas()
            for _ in range(n):
                steps = int(rng.integers(15, 40))
                pts = _walk(rng, rng.uniform((0, 0), (w, h)), rng.uniform(0, 2 * np.pi), steps,
                            s * rng.uniform(4, 10), 0.25)
                cv2.polylines(c, [pts], False, 255, thick(0.6, 1.4), cv2.LINE_AA)
                for b in rng.integers(0, steps, int(rng.integers(0, 4))):
                    br = _walk(rng, pts[b].astype(float), rng.uniform(0, 2 * np.pi), 8, s * rng.uniform(3, 7), 0.5)
                    cv2.polylines(c, [br], False, 255, 1, cv2.LINE_AA)
            core, strength, grey = _u(rng, (0.3, 0.8)), _u(rng, (0.15, 0.45)), _u(rng, (0.3, 0.6))
            f = take(c)
            np.maximum(removal, f[..., None] * core, out=removal)
            halo = np.clip(cv2.GaussianBlur(f, (0, 0), max(0.7, s * rng.uniform(0.8, 2.5))) * 2.0, 0, 1) * strength
            mask[...] |= halo > 0.15
            silver = (halo, grey)
            rec.append({"kind": kind, "count": n, "core_removed": core, "silvering": strength, "silver_grey": grey})
    return (removal, dadd) if rec else (None, None), silver, mask, rec


def damage(clean, severity: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Age ``clean`` as a chromogenic print or slide: ``(damaged uint8 H x W x 3, mask bool H x W, record)``."""
    clean = damage_input(clean, severity, seed, SEVERITIES)
    h, w = clean.shape[:2]
    digest = hashlib.blake2b(clean.tobytes(), digest_size=16, key=_SALT)
    digest.update(f"{int(seed)}|{SEVERITIES.index(severity)}|{h}x{w}".encode())
    rng = np.random.default_rng(int.from_bytes(digest.digest(), "little"))

    stock = str(rng.choice(list(STOCKS)))
    support, storage, base_rates, stain_factor = STOCKS[stock]
    unlisted = bool(rng.random() < 0.15)
    if unlisted:  # an unlisted stock: any ranking of the three dyes
        rates = rng.dirichlet((1.5, 1.5, 1.5))
    else:
        rates = np.asarray(base_rates) * np.exp(rng.normal(0, 0.3, 3))
    rates = rates / rates.max()
    # Unwanted absorptions: cyan in green/blue, magenta in blue (the largest) and red, yellow in green.
    mix = np.eye(3)
    mix[1, 0], mix[2, 0] = _u(rng, (0.08, 0.2)), _u(rng, (0.03, 0.1))
    mix[0, 1], mix[2, 1] = _u(rng, (0.03, 0.1)), _u(rng, (0.25, 0.45))
    mix[0, 2], mix[1, 2] = _u(rng, (0.0, 0.03)), _u(rng, (0.05, 0.15))
    fade = _u(rng, _FADE[severity])
    shield = _u(rng, (0.5, 2.0)) if storage == "light" else 0.0
    mode = str(rng.choice(["uniform", "edge", "window", "gradient", "blotchy"], p=[0.35, 0.2, 0.15, 0.15, 0.15]))
    field, field_rec = _field(rng, h, w, mode)

    # Yellowing products of the dye breakdown, then the D-min stain of the gelatin and paper.
    byproduct = _u(rng, (0.0, 0.25))
    byvec = np.array([0.1, 0.3, 1.0], np.float32) * byproduct
    stain = _u(rng, _STAIN[severity]) * min(stain_factor * float(np.exp(rng.normal(0, 0.25))), 2.0)
    if rng.random() < 0.12:  # rarer pinkish-orange stain (some papers' magenta coupler by-products)
        stain_vec = np.array([_u(rng, (0.05, 0.2)), _u(rng, (0.6, 0.9)), _u(rng, (0.6, 0.9))], np.float32)
    else:  # yellow to brown
        stain_vec = np.array([_u(rng, (0.05, 0.3)), _u(rng, (0.25, 0.6)), 1.0], np.float32)
    stain_field, stain_rec = _field(rng, h, w, "rim") if rng.random() < 0.4 else (None, {"mode": "uniform"})
    haze = _u(rng, _HAZE[severity])

    (removal, dadd), silver, mask, marks = _marks(rng, h, w, support, severity)
    retained = np.exp(field[..., None] * (np.log1p(-fade) * rates).astype(np.float32))
    faded, loss = dye_fade(_D_IN[clean], mix, retained, shield, removal)
    faded += loss.sum(axis=2, keepdims=True) * byvec
    faded += (stain * stain_vec) if stain_field is None else (stain * stain_field)[..., None] * stain_vec
    if dadd is not None:
        faded += dadd
    np.maximum(faded, 0.0, out=faded)
    lin = np.exp(faded * np.float32(-_LN10), out=faded)  # in [0, 1]: every step below is a convex blend
    if silver is not None:
        sil, grey = silver
        lin += sil[..., None] * (grey * np.array([0.96, 0.99, 1.04], np.float32) - lin)
    # Surface haze blends toward a warm white; folded into the index of the linear -> sRGB table.
    scale = np.float32(65535.0 * (1.0 - haze))
    offset = (65535.0 * haze * np.array([1.0, 0.98, 0.93]) + 0.5).astype(np.float32)
    out = _OUT[(lin * scale + offset).astype(np.int32)]
    record = {"model": VERSION, "severity": severity, "seed": int(seed), "stock": stock, "support": support,
              "storage": storage, "unlisted_rates": unlisted, "rates": [float(r) for r in rates],
              "fastest_dye": ("cyan", "magenta", "yellow")[int(np.argmax(rates))], "fade": fade,
              "mix": mix.tolist(), "shield": shield, "field": field_rec, "byproduct": byproduct,
              "stain": stain, "stain_vec": stain_vec.tolist(), "stain_field": stain_rec, "haze": haze, "marks": marks}
    return out, mask, record
