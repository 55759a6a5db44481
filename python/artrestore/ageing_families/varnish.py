"""Ageing of paintings photographed as they are now: oil on canvas or panel, tempera, watercolour/gouache on paper.

In linear-light reflectance (0-1), in the order they act: fading of fugitive pigments (red/purple lakes towards
pale, yellow lakes in greens, copper-resinate browning, smalt greying, chrome yellow darkening); canvas weave in
patches; a yellowed natural-resin varnish, transmittance exp(-a_c * t) with a_B > a_G > a_R, thickness varying
smoothly and thicker in recesses and at the edges, optionally oil yellowing (on paper: paper toning); a partial
earlier cleaning; craquelure (warped Voronoi cells, dark age cracks, wider drying cracks), flaking losses showing a
white or red-brown ground, discoloured retouchings; grime and soot; varnish bloom lifting the blacks.
``damage(clean, severity, seed) -> (damaged, mask, record)``: ``clean`` H x W x 3 RGB, uint8 or float32 0-1;
``damaged`` uint8 sRGB; ``mask`` bool H x W at local marks (cracks, losses, retouchings, weave patches); ``record``
every random draw. Spatial scales relative to a 512 px short side. Written apart from the other generators.
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from artrestore._validate import damage_input, to_uint8

__all__ = ["VERSION", "SEVERITIES", "damage"]

VERSION = "varnish-1"
SEVERITIES = ("light", "moderate", "severe")
_SALT = 0x5A1A_71F3
_N = 16384  # linear -> sRGB table size: fine enough that the darkest sRGB steps survive
_v = np.arange(256, dtype=np.float64) / 255.0
_TO_LIN = np.where(_v <= 0.04045, _v / 12.92, ((_v + 0.055) / 1.055) ** 2.4).astype(np.float32)
_l = np.linspace(0.0, 1.0, _N + 1)
_TO_SRGB = to_uint8(np.where(_l <= 0.0031308, 12.92 * _l, 1.055 * _l ** (1 / 2.4) - 0.055))
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
# Images are planar (3, H, W) throughout: per-channel constants then broadcast over long rows, which is fast.
_c = lambda values: np.asarray(values, np.float32).reshape(3, 1, 1)
_lum = lambda x: _LUMA[0] * x[0] + _LUMA[1] * x[1] + _LUMA[2] * x[2]
_u = lambda rng, lo, hi: float(rng.uniform(lo, hi))
# Probability of each process per severity (light, moderate, severe).
_P = {"fading": (0.35, 0.55, 0.75), "varnish": (0.85, 0.9, 0.95), "grime": (0.5, 0.75, 0.9), "bloom": (0.12, 0.25, 0.4),
      "cleaning": (0.12, 0.25, 0.35), "cracks": (0.35, 0.65, 0.9), "losses": (0.1, 0.4, 0.75),
      "retouchings": (0.1, 0.3, 0.5), "weave": (0.15, 0.3, 0.45)}
# Strength ranges per severity: varnish blue density, grime density, bloom haze (linear), fading fraction.
_VARNISH = ((0.08, 0.4), (0.35, 0.8), (0.9, 1.7))
_GRIME = ((0.03, 0.18), (0.1, 0.35), (0.3, 0.8))
_BLOOM = ((0.015, 0.05), (0.04, 0.11), (0.08, 0.22))
_FADE = ((0.15, 0.4), (0.3, 0.7), (0.5, 0.95))


def _noise(rng, h, w, cells):
    """Smooth unit-variance noise with about ``cells`` blobs across the short side, alike at any image size."""
    short = min(h, w)
    g = rng.standard_normal((max(2, round(cells * h / short)) + 1, max(2, round(cells * w / short)) + 1))
    k = min(1.0, 10.0 * cells / short)  # cubic up to ~10 px a blob, then cheap linear to full size
    mid = cv2.resize(g.astype(np.float32), (max(2, round(w * k)), max(2, round(h * k))), interpolation=cv2.INTER_CUBIC)
    out = cv2.resize(mid, (w, h), interpolation=cv2.INTER_LINEAR) if k < 1.0 else mid
    return (out - mid.mean()) / (mid.std() + 1e-6)


def _blur(a, sigma):
    """Gaussian blur; wide ones are done on a reduced copy, since only the smooth result is needed."""
    if sigma <= 3:
        return cv2.GaussianBlur(a, (0, 0), max(sigma, 0.3))
    f = sigma / 2.0
    h, w = a.shape[:2]
    small = cv2.resize(a, (max(2, round(w / f)), max(2, round(h / f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), 2.0), (w, h), interpolation=cv2.INTER_LINEAR)


def _hue_weight(hue, sat, centre, width):
    """How much a pixel belongs to a pigment of hue ``centre`` (degrees): saturation times a circular Gaussian."""
    d = np.abs((hue - centre + 180.0) % 360.0 - 180.0)
    return sat * np.exp(-0.5 * (d / width) ** 2)


def _fade(rng, x, srgb, h, w, f, rec):
    """Fugitive pigments: each process acts on the hues where that pigment family is likely to sit."""
    hsv = cv2.cvtColor(srgb, cv2.COLOR_RGB2HSV)
    hue, sat = hsv[..., 0], hsv[..., 1]
    light = 1.0 + 0.3 * _noise(rng, h, w, 2)  # uneven light exposure
    lum = _lum(x)[None]
    odds = {"red_lake": 0.7, "yellow_lake": 0.35, "copper_resinate": 0.25, "smalt": 0.2, "chrome_yellow": 0.2}
    names = [n for n, p in odds.items() if rng.random() < p] or ["red_lake"]  # lakes are the classic fugitives
    chosen = {}
    for name in names:
        k = f * _u(rng, 0.6, 1.0)
        chosen[name] = round(k, 4)
        # Bleaching lakes lose a fraction of their optical density D = -ln R (floored at a black paint's 0.001):
        # R' = R exp(k w D), so dense colours move most, towards pale; untouched pixels stay exactly as they were.
        if name == "red_lake":  # red and purple lakes fade towards pale pink
            wgt = np.clip(k * _hue_weight(hue, sat, _u(rng, 320, 370), _u(rng, 20, 40)) * light, 0, 0.97)
            x = x * np.exp(-wgt[None] * np.log(np.clip(x, 1e-3, 1.0)))
        elif name == "yellow_lake":  # the yellow in mixed greens fades: blue absorption drops, greens go blue
            wgt = np.clip(k * _hue_weight(hue, sat, _u(rng, 70, 110), 40) * light, 0, 0.97)
            x[2] = x[2] * np.exp(-wgt * np.log(np.clip(x[2], 1e-3, 1.0)))
        elif name == "copper_resinate":  # green copper resinate browns at equal lightness
            wgt = _hue_weight(hue, sat, _u(rng, 110, 150), 30)[None] * k
            x = x + wgt * (lum * _c([1.5, 0.95, 0.4]) - x)
        elif name == "smalt":  # smalt loses its cobalt blue to a grey
            wgt = _hue_weight(hue, sat, _u(rng, 210, 240), 25)[None] * k
            x = x + wgt * (lum * _c([1.05, 1.0, 0.9]) - x)
        else:  # chrome yellow darkens towards olive brown
            wgt = _hue_weight(hue, sat, _u(rng, 40, 60), 18)[None] * k
            x = x * (1.0 - wgt * _c([0.45, 0.5, 0.35]))
    rec["fading"] = chosen
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _field(rng, h, w, edge, recess, film):
    """A film thickness, mean 1: smooth unevenness, build-up at the edges and pooling in recesses."""
    t = 1.0 + film["unevenness"] * _noise(rng, h, w, film["cells"]) + film["edge_build"] * edge
    t = np.clip(t + film["recess_pooling"] * recess, 0.05, None)
    return t / t.mean()


def _voronoi(rng, h, w, s, cell, lum_s):
    """Crack cells: Voronoi labels on a coarse grid, looked up through a warped map so edges wander with the paint."""
    ax, ay = (1.0, _u(rng, 1.0, 2.2)) if rng.random() < 0.5 else (_u(rng, 1.0, 2.2), 1.0)  # cells elongated
    f = 6.0 / (cell * s)  # coarse grid: about 6 px per cell
    hl, wl = int(h * f / ay) + 3, int(w * f / ax) + 3
    n = max(4, int(hl * wl / 36))
    ys, xs = rng.integers(0, hl, n), rng.integers(0, wl, n)
    src = np.ones((hl, wl), np.uint8)
    src[ys, xs] = 0
    _, lab = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    cells_across = min(h, w) / (cell * s)
    jag = 5.0 * (lum_s - lum_s.mean())  # a shift that jumps at paint boundaries, so cell walls form along them
    dx = 1.8 * _noise(rng, h, w, cells_across / 3) + 0.5 * _noise(rng, h, w, cells_across * 2) + jag
    dy = 1.8 * _noise(rng, h, w, cells_across / 3) + 0.5 * _noise(rng, h, w, cells_across * 2) - jag
    mx = np.arange(w, dtype=np.float32)[None, :] * (f / ax) + 1.5 + dx
    my = np.arange(h, dtype=np.float32)[:, None] * (f / ay) + 1.5 + dy
    full = cv2.remap(lab.astype(np.float32), mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    crack = np.zeros((h, w), bool)
    crack[:, 1:] |= full[:, 1:] != full[:, :-1]
    crack[1:, :] |= full[1:, :] != full[:-1, :]
    seeds = np.stack([ys * ay / f, xs * ax / f, lab[ys, xs]], 1)  # approximate full-size position, label
    return full.astype(np.int32), crack, seeds, (round(ax, 3), round(ay, 3))


def _widen(crack, width):
    """Bool line map widened to ``width`` px; the returned float coverage keeps sub-pixel widths faint."""
    k = int(np.floor(width))
    m = cv2.dilate(crack.astype(np.uint8), np.ones((k, k), np.uint8)) if k >= 2 else crack.astype(np.uint8)
    return m.astype(bool), m.astype(np.float32) * min(1.0, width)


def _patch(rng, h, w, s):
    """A soft-edged cleaning area: a small test window, a band, or a whole side."""
    kind = ["window", "band", "side"][rng.choice(3, p=[0.45, 0.3, 0.25])]
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    if kind == "window":
        cy, cx, ry, rx = _u(rng, 0.2, 0.8) * h, _u(rng, 0.2, 0.8) * w, _u(rng, 0.04, 0.15) * h, _u(rng, 0.04, 0.15) * w
        m = ((np.abs(yy - cy) < ry) & (np.abs(xx - cx) < rx)).astype(np.float32)
    else:
        ang = _u(rng, 0, 2 * np.pi)
        proj = (xx - w / 2) * np.cos(ang) + (yy - h / 2) * np.sin(ang)
        off = _u(rng, -0.3, 0.3) * min(h, w)
        m = (proj > off) if kind == "side" else (np.abs(proj - off) < _u(rng, 0.05, 0.2) * min(h, w))
        m = m.astype(np.float32)
    return _blur(m, _u(rng, 0.7, 3.0) * s), kind


def damage(clean, severity: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """-> (damaged uint8 H x W x 3 RGB, mask bool H x W of local marks, record)"""
    img = damage_input(clean, severity, seed, SEVERITIES)
    h, w = img.shape[:2]
    si = SEVERITIES.index(severity)
    digest = hashlib.blake2b(img.tobytes() + np.int64([h, w]).tobytes(), digest_size=8).digest()
    rng = np.random.default_rng([int(seed) % 2**64, si, _SALT, int.from_bytes(digest, "little")])
    s = min(h, w) / 512.0
    substrate = ["canvas", "panel", "paper"][rng.choice(3, p=[0.5, 0.3, 0.2])]
    rec = {"model": VERSION, "severity": severity, "seed": int(seed), "substrate": substrate}
    on = {k: bool(rng.random() < p[si]) for k, p in _P.items()}
    if substrate == "paper":  # no canvas, few cracks (gouache only), more light-fading
        on["weave"] = False
        on["cracks"] = on["cracks"] and rng.random() < 0.3
        on["fading"] = on["fading"] or rng.random() < 0.3
    if not (on["varnish"] or on["grime"]):  # colour and tone must carry most of the damage
        on["varnish" if rng.random() < 0.7 else "grime"] = True
    rec["processes"] = sorted(k for k, v in on.items() if v)
    srgb = img.astype(np.float32) / 255.0
    x = _TO_LIN[img.transpose(2, 0, 1)]  # planar (3, H, W)
    lum_s = _blur(_lum(x), 2.0 * s)
    # Pseudo-height: light (lead-white rich) paint stands proud, dark hollows collect varnish and dirt.
    recess = np.clip(_blur(lum_s, 12.0 * s) - lum_s, 0, None)
    recess /= recess.max() + 1e-6
    short = min(h, w)
    ey, ex = np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32)
    dist = np.minimum(np.minimum(ey, h - 1 - ey)[:, None], np.minimum(ex, w - 1 - ex)[None, :]) / short
    mask = np.zeros((h, w), bool)
    if on["fading"]:
        x = _fade(rng, x, srgb, h, w, _u(rng, *_FADE[si]) * (1.3 if substrate == "paper" else 1.0), rec)
    if on["weave"]:  # threads imprinted from the canvas (lining pressure, thin paint): separable bump pattern
        period = _u(rng, 3.0, 7.0) * s
        amp = _u(rng, 0.04, 0.14) * min(1.0, max(0.0, period - 2.0) / 2.0)  # finer than ~3 px the camera averages it out
        thread = np.random.default_rng(rng.integers(2**63))  # own stream: its draw count depends on the size
        jx = np.cumsum(1 + 0.15 * thread.standard_normal(w)).astype(np.float32)  # uneven thread spacing
        jy = np.cumsum(1 + 0.15 * thread.standard_normal(h)).astype(np.float32)
        bumps = np.cos(2 * np.pi * jy / period)[:, None] * np.cos(2 * np.pi * jx / period)[None, :]
        region = np.clip(_noise(rng, h, w, 2.5) - _u(rng, 0.3, 1.2), 0, 1)
        x = x * (1.0 + amp * region * bumps)[None]
        mask |= region * amp > 0.02
        rec["weave"] = {"period_px": round(period, 3), "amplitude": round(amp, 4)}
    clean_area = np.zeros((h, w), np.float32)
    if on["cleaning"]:
        clean_area, kind = _patch(rng, h, w, s)
        rec["cleaning"] = {"kind": kind, "remaining": round(_u(rng, 0.05, 0.6), 3)}
        clean_area *= 1.0 - rec["cleaning"]["remaining"]
    if on["varnish"]:
        strength = _u(rng, *_VARNISH[si])
        g = _u(rng, 0.2, 0.8)
        r = _u(rng, 0.25 * g, min(0.75, 1.3 * g))  # r > g: the greenish yellow of aged mastic; r << g: amber
        edge_w, oil = _u(rng, 0.03, 0.2), _u(rng, 0.0, 0.8) * (rng.random() < 0.5)
        film = {"unevenness": _u(rng, 0.05, 0.35), "edge_build": _u(rng, 0.0, 1.2), "recess_pooling": _u(rng, 0.0, 1.5),
                "cells": _u(rng, 1.5, 5)}
        t = _field(rng, h, w, np.exp(-dist / edge_w), recess, film)
        weight = 0.25 + 0.75 * lum_s if substrate == "paper" else 1.0 + oil * (lum_s - lum_s.mean())
        t = -strength * t * weight * (1.0 - clean_area)
        x = x * np.exp(t[None] * _c([r, g, 1.0]))
        rec["varnish"] = {"blue_density": round(strength, 4), "red_ratio": round(r, 4), "green_ratio": round(g, 4),
                          "edge_width": round(edge_w, 4), "oil_yellowing": round(float(oil), 4),
                          **{k: round(v, 4) for k, v in film.items()}}
    labels = None
    if on["cracks"]:
        cell = _u(rng, 14, 40) * (0.6 if substrate == "paper" else 1.0)
        labels, crack, seeds, aniso = _voronoi(rng, h, w, s, cell, lum_s)
        crack &= _noise(rng, h, w, 6) > _u(rng, -2.0, 0.3)  # networks are rarely complete
        width, depth = _u(rng, 0.6, 1.8) * s, _u(rng, 0.4, 0.9)
        cmask, cover = _widen(crack, width)
        a = (depth * cover * (0.55 + 0.45 * lum_s / (lum_s.max() + 1e-6)))[None]  # cracks show most in light paint
        dirt = _u(rng, 0.3, 1.5)
        x = x * (1 - a) + a * _c([0.03, 0.022, 0.015]) * dirt  # dirt lodged in the cracks
        mask |= cmask
        rec["cracks"] = {"cell_px": round(cell, 3), "anisotropy": aniso, "width_px": round(width, 3),
                         "depth": round(depth, 4), "dirt": round(dirt, 4)}
        if substrate != "paper" and rng.random() < 0.25:  # drying cracks: wide openings in dark, slow-drying paint
            _, dry, _, _ = _voronoi(rng, h, w, s, cell * _u(rng, 1.2, 2.5), lum_s)
            dmask, dcover = _widen(dry & (lum_s < _u(rng, 0.03, 0.12)), _u(rng, 1.5, 3.5) * s)
            under = _c([_u(rng, 0.08, 0.35), _u(rng, 0.04, 0.2), _u(rng, 0.02, 0.1)])  # the ground or underpaint
            x = x + (_u(rng, 0.5, 0.9) * dcover)[None] * (under - x)
            mask |= dmask
            rec["cracks"]["drying_underlayer"] = [round(float(v), 4) for v in under.ravel()]
    if on["losses"]:
        if labels is not None:  # flakes detach along the crack network: whole cells near a few centres
            n, picked = int(rng.integers(1, 3 + si)), np.zeros(int(seeds[:, 2].max()) + 1, bool)
            for _ in range(n):
                cy, cx, rad = _u(rng, 0, h), _u(rng, 0, w), _u(rng, 0.01, 0.04 + 0.04 * si) * short
                d = np.hypot(seeds[:, 0] - cy, seeds[:, 1] - cx) * (1 + 0.5 * rng.random(len(seeds)))
                picked[seeds[d < rad, 2].astype(np.int64)] = True
            loss = picked[labels]
        else:
            n = 0
            loss = (_noise(rng, h, w, 25) > 1.2) & (_noise(rng, h, w, 4) > _u(rng, 1.2, 2.0) - 0.3 * si)
        ground = ("white", [0.82, 0.78, 0.68]) if rng.random() < 0.55 else ("red_brown", [0.22, 0.065, 0.03])
        tex, gain = 1.0 + 0.1 * _noise(rng, h, w, 60)[None], _u(rng, 0.8, 1.1)
        x = np.where(loss[None], _c(ground[1]) * gain * tex, x)
        mask |= loss
        rec["losses"] = {"clusters": n, "ground": ground[0], "ground_gain": round(gain, 4),
                         "fraction": round(float(loss.mean()), 5)}
    if on["retouchings"]:  # earlier fills matched once, then darkened or shifted: flatter, off-colour blobs
        rec["retouchings"] = []
        for _ in range(int(rng.integers(1, 5))):
            cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
            ry, rx = max(2, int(_u(rng, 0.015, 0.07) * short)), max(2, int(_u(rng, 0.015, 0.07) * short))
            y0, y1, x0, x1 = max(0, cy - 2 * ry), min(h, cy + 2 * ry), max(0, cx - 2 * rx), min(w, cx + 2 * rx)
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            blob = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1 + 0.4 * _noise(rng, y1 - y0, x1 - x0, 3)
            if not blob.any():
                continue
            crop = x[:, y0:y1, x0:x1]
            shift = np.exp(rng.normal(0, 0.12, 3)).astype(np.float32) * _u(rng, 0.7, 1.05)
            flat = _u(rng, 0.3, 0.9)
            fill = (crop * (1 - flat) + flat * _c(crop[:, blob].mean(1))) * _c(shift)
            alpha = _blur(blob.astype(np.float32), 1.0 * s)[None]
            x[:, y0:y1, x0:x1] = crop + alpha * (fill - crop)
            mask[y0:y1, x0:x1] |= blob
            rec["retouchings"].append({"centre": [cy, cx], "radii": [ry, rx], "shift": [round(float(v), 4) for v in shift],
                                       "flatness": round(flat, 4)})
    if on["grime"]:  # soot and dust: near-neutral absorption, collecting in hollows and towards one side
        strength, warm, desat = _u(rng, *_GRIME[si]), _u(rng, -0.15, 0.4), _u(rng, 0.1, 0.5)
        ang = _u(rng, 0, 2 * np.pi)
        ramp = (np.cos(ang) * (ex[None, :] / w - 0.5) + np.sin(ang) * (ey[:, None] / h - 0.5)).astype(np.float32)
        film = {"unevenness": _u(rng, 0.1, 0.45), "edge_build": _u(rng, 0.0, 2.0), "recess_pooling": _u(rng, 0.0, 2.0),
                "cells": _u(rng, 2, 8)}
        t = _field(rng, h, w, ramp, recess, film) * (1.0 - clean_area)
        x = x * np.exp(-strength * t[None] * _c([1 - warm, 1.0, 1 + warm]))
        a = np.clip(desat * strength * t, 0, 0.9)[None]
        x = x + a * (_lum(x)[None] - x)
        rec["grime"] = {"density": round(strength, 4), "warmth": round(warm, 4), "desaturation": round(desat, 4),
                        "side_angle": round(ang, 4), **{k: round(v, 4) for k, v in film.items()}}
    if on["bloom"]:  # moisture-damaged resin scatters: a bluish-white veil, patchy, strongest over dark paint
        b = {"haze": _u(rng, *_BLOOM[si]), "cells": _u(rng, 1.5, 6), "cover": _u(rng, -0.3, 0.4), "gamma": _u(rng, 0.5, 2),
             "whiteness": _u(rng, 0.8, 1.0)}
        patch = np.clip(0.5 + 0.5 * _noise(rng, h, w, b["cells"]) + b["cover"], 0, 1) ** b["gamma"]
        hz = (b["haze"] * patch)[None]
        x = x * (1 - hz) + hz * _c([0.78, 0.8, 0.85]) * b["whiteness"]
        rec["bloom"] = {k: round(v, 4) for k, v in b.items()}
    out = _TO_SRGB[(np.clip(x, 0.0, 1.0) * _N + 0.5).astype(np.int32)]
    return np.ascontiguousarray(out.transpose(1, 2, 0)), mask, rec
