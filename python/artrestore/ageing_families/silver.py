"""Silver: how black-and-white and toned photographic prints of 1850-1960 age (salted paper, albumen, gelatin).

The clean colour picture is the subject; the damaged image is a scan of an old print of it. Image tone: visual
density ``D = -log10(Y)`` with per-channel multipliers ``k`` (warm albumen, red-brown salted paper, neutral to warm
gelatin, sepia, selenium, gold), a process maximum density and contrast; a ``keep`` field in [0, 1] says how much
colour survives (hand colouring, in patches). Fading of the silver (highlights and half-tones first, what remains
yellower; stronger at edges and where light fell), yellowing of paper and albumen (mostly blue), silver mirroring
(a bluish sheen over dense areas near the edges). Local marks (the mask): foxing, tide lines, creases, emulsion
cracks, scratches, pinholes. Input: ``clean`` uint8 H x W x 3 RGB or float32 in [0, 1]; ``severity`` in
``SEVERITIES``; integer ``seed``. Output: ``(damaged uint8 RGB, mask bool H x W, record of every draw)``; pixel
sizes at a 512 px short side, scaled; densities in log10 units. Written from the physics and chemistry of the
medium, apart from the project's other generators.
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from artrestore._validate import damage_input, to_uint8

__all__ = ["VERSION", "SEVERITIES", "PROCESSES", "damage"]

VERSION = "silver-1"
SEVERITIES = ("light", "moderate", "severe")
_SALT = 0x5117E12
_LN10 = np.float32(np.log(10.0))
_LOW = 64  # short side of the grid smooth fields are drawn on: their shape is then independent of the image size

# name: (weight, spectral density ratios R G B, maximum density range, chance of a soft print, yellowing factor).
# Why these hues: small silver grains (printing-out papers) absorb blue most, so they look red-brown; silver sulfide
# (sepia) is yellow-brown, silver selenide purple-brown, gold plating gives purple (albumen) or blue-black (gelatin).
# The albumen binder yellows most (Maillard reaction of egg white); baryta-coated gelatin papers least.
PROCESSES = {
    "salted_paper": (0.10, (0.72, 0.95, 1.22), (1.0, 1.4), 0.6, 0.9),
    "albumen": (0.20, (0.78, 0.97, 1.17), (1.5, 1.9), 0.35, 1.2),
    "albumen_gold": (0.12, (0.90, 1.08, 1.00), (1.5, 1.9), 0.35, 1.2),
    "gelatin_neutral": (0.18, (1.00, 1.00, 1.00), (1.8, 2.2), 0.1, 0.45),
    "gelatin_warm": (0.10, (0.92, 0.99, 1.08), (1.7, 2.1), 0.1, 0.6),
    "sepia": (0.14, (0.72, 0.92, 1.25), (1.4, 1.8), 0.1, 0.8),
    "selenium": (0.10, (0.88, 1.06, 0.98), (1.8, 2.2), 0.1, 0.45),
    "gold_blue_black": (0.06, (1.05, 1.00, 0.93), (1.8, 2.2), 0.1, 0.45),
}

# Per severity: ranges of colour kept, fading, yellowing; (chance, low, high) of mirroring strength; (chance, min,
# max count) of mark kinds; chance of a tide line and of a crease. Tuned to the brief's PSNR bands.
_SEV = {
    "light": dict(keep=(0.7, 0.97), fade=(0.02, 0.18), yellow=(0.02, 0.12), gamma=0.05, mirror=(0.15, 0.05, 0.2),
                  fox=(0.35, 2, 12), tide=0.08, crease=0.08, cracks=(0.15, 1, 4), scratch=(0.3, 1, 3),
                  pin=(0.2, 1, 3)),
    "moderate": dict(keep=(0.2, 0.65), fade=(0.15, 0.45), yellow=(0.1, 0.32), gamma=0.1, mirror=(0.35, 0.1, 0.35),
                     fox=(0.6, 5, 40), tide=0.25, crease=0.25, cracks=(0.35, 2, 10), scratch=(0.5, 1, 6),
                     pin=(0.35, 1, 6)),
    "severe": dict(keep=(0.0, 0.22), fade=(0.5, 0.9), yellow=(0.25, 0.6), gamma=0.15, mirror=(0.55, 0.25, 0.5),
                   fox=(0.75, 15, 110), tide=0.45, crease=0.45, cracks=(0.6, 5, 25), scratch=(0.7, 3, 12),
                   pin=(0.5, 2, 12)),
}


def _f(v):
    """Round a draw for the JSON record (lists and tuples element-wise)."""
    return [round(float(x), 4) for x in v] if np.ndim(v) else round(float(v), 4)


def _smooth(x, a, b):
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _noise(rng, shape, cells, octaves=3):
    """Smooth value noise with unit variance on the low grid; ``cells`` grid cells across the short side."""
    lh, lw = shape
    out = np.zeros(shape, np.float32)
    total = 0.0
    for o in range(octaves):
        c = cells * 2**o
        grid = rng.standard_normal((max(2, round(c * lh / min(shape)) + 1), max(2, round(c * lw / min(shape)) + 1)))
        out += 0.5**o * cv2.resize(grid.astype(np.float32), (lw, lh), interpolation=cv2.INTER_CUBIC)
        total += 0.25**o
    return out / np.float32(np.sqrt(total) * 0.8)


def _polyline(rng, p0, p1, n, wiggle):
    """Points from p0 to p1 with a smooth random sideways wander of ``wiggle`` px (creases, scratches)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    d = np.asarray(p1, float) - np.asarray(p0, float)
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    off = np.cumsum(rng.normal(0.0, wiggle, n)) * np.sin(np.pi * t[:, 0])
    return np.asarray(p0, float) + t * d + off[:, None] * normal


def _canvas(h, w, lines, thick, closed=False):
    """Anti-aliased rasterisation of polylines into a float [0, 1] coverage map."""
    can = np.zeros((h, w), np.uint8)
    cv2.polylines(can, [np.round(p * 16).astype(np.int32) for p in lines], closed, 255, thick, cv2.LINE_AA, 4)
    return can.astype(np.float32) / 255.0


def _spots(rng, h, w, n, s, out):
    """Foxing: ``n`` irregular rust spots, log-uniform radii 1-14 px at 512 px, a dense core and a faint halo."""
    radii = []
    for _ in range(n):
        r = max(0.6, s * float(np.exp(rng.uniform(0.0, np.log(14.0)))))
        cy, cx, a = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.25, 0.85)
        ph = rng.uniform(0, 2 * np.pi, 2)
        rad = int(np.ceil(4 * r)) + 1
        y0, y1 = max(0, int(cy) - rad), min(h, int(cy) + rad + 1)
        x0, x1 = max(0, int(cx) - rad), min(w, int(cx) + rad + 1)
        if y0 >= y1 or x0 >= x1:
            continue
        dy, dx = np.ogrid[y0 - cy:y1 - cy, x0 - cx:x1 - cx]
        th = np.arctan2(dy, dx)
        # Why lobes: foxing grows from iron particles / fungal colonies and spreads unevenly along paper fibres.
        lobes = 1.0 + 0.12 * np.sin(2 * th + ph[0]) + 0.07 * np.sin(5 * th + ph[1])
        d2 = (dx * dx + dy * dy) / (r * lobes) ** 2
        spot = (a * (np.exp(-d2 * d2) + 0.3 * np.exp(-d2 / 5.0))).astype(np.float32)
        np.maximum(out[y0:y1, x0:x1], spot, out=out[y0:y1, x0:x1])
        radii.append(r / s)
    return radii


def _edge_dist(lh, lw):
    """Distance to the nearest print edge in short sides, on the low grid."""
    y = (np.arange(lh, dtype=np.float32) + 0.5) / min(lh, lw)
    x = (np.arange(lw, dtype=np.float32) + 0.5) / min(lh, lw)
    return np.minimum(np.minimum(y, y[-1] + y[0] - y)[:, None], np.minimum(x, x[-1] + x[0] - x)[None, :])


def damage(clean, severity: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Age ``clean`` as an old silver print: ``(damaged uint8 H x W x 3, mask bool H x W, record)``."""
    img = damage_input(clean, severity, seed, SEVERITIES)
    h, w = img.shape[:2]
    sev = SEVERITIES.index(severity)
    digest = int.from_bytes(hashlib.blake2b(img.tobytes() + repr(img.shape).encode(), digest_size=8).digest(), "little")
    rng = np.random.default_rng([int(seed) % 2**64, sev, _SALT, digest])
    p = _SEV[severity]
    s = min(h, w) / 512.0
    lh, lw = (_LOW, max(2, round(_LOW * w / h))) if h <= w else (max(2, round(_LOW * h / w)), _LOW)
    x = img.astype(np.float32) / 255.0
    rec: dict = {"model": VERSION, "severity": severity, "seed": int(seed)}
    # --- the print: process, tone, contrast, softness --------------------------------------------------------------
    names = list(PROCESSES)
    weights = np.array([PROCESSES[n][0] for n in names])
    proc = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    _, k_base, dmax_rng, soft_p, yel_factor = PROCESSES[proc]
    k0 = np.array(k_base) + rng.normal(0.0, 0.03, 3)
    dmax = rng.uniform(*dmax_rng)
    gamma = float(np.exp(rng.normal(0.0, p["gamma"])))
    blur = float(rng.uniform(0.3, 1.2) * s) if rng.random() < soft_p * (0.5 + 0.5 * sev / 2) else 0.0
    if blur > 0.25:  # salted paper and albumen were contact printed, often from paper negatives: soft detail
        x = cv2.GaussianBlur(x, (0, 0), blur)
    rec.update(process=proc, k=_f(k0), dmax=_f(dmax), contrast_gamma=_f(gamma), blur_px=_f(blur))
    # --- smooth fields on the low grid: exposure to light, edges, blotches -----------------------------------------
    edge = _edge_dist(lh, lw)
    exposure_kind = ["even", "gradient", "mat_window"][int(rng.choice(3, p=[0.45, 0.3, 0.25]))]
    expo = np.ones((lh, lw), np.float32)
    if exposure_kind == "gradient":  # one side of the print faced a window
        ang, g = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.6)
        yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32) / np.float32(max(lh, lw))
        expo = 1.0 + g * ((xx - xx.mean()) * np.cos(ang) + (yy - yy.mean()) * np.sin(ang)) * 2.0
        rec["exposure_gradient"] = _f([ang, g])
    elif exposure_kind == "mat_window":  # under a mat only the window was lit; the covered margin kept its density
        m = rng.uniform(0.04, 0.14, 4)
        covered = rng.uniform(0.2, 0.6)
        ey, ex = np.arange(lh) / min(lh, lw), np.arange(lw) / min(lh, lw)
        inside = ((ey > m[0]) & (ey < ey[-1] - m[1]))[:, None] & ((ex > m[2]) & (ex < ex[-1] - m[3]))[None, :]
        expo = np.where(inside, 1.0, covered).astype(np.float32)
        rec["mat_window"] = _f(list(m) + [covered])
    rec["exposure"] = exposure_kind
    fade0, yel0 = rng.uniform(*p["fade"]), rng.uniform(*p["yellow"]) * yel_factor
    edge_fade, edge_yel = rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0)
    edge_w = rng.uniform(0.04, 0.15)
    near = np.exp(-edge / edge_w)
    fade = np.clip(fade0 * expo * (1.0 + edge_fade * near + 0.3 * _noise(rng, (lh, lw), 3)), 0.0, 0.95)
    yel = np.clip(yel0 * (0.6 + 0.4 * expo) * (1.0 + edge_yel * near + 0.4 * _noise(rng, (lh, lw), 4)), 0.0, 0.9)
    keep0 = rng.uniform(*p["keep"])
    hand = rng.random() < 0.3
    keep_hi = rng.uniform(0.4, 0.85) if hand else keep0
    blotch = _smooth(_noise(rng, (lh, lw), 4), -0.3, 0.6) if hand else np.zeros((lh, lw), np.float32)
    rec.update(fade=_f(fade0), fade_edge=_f(edge_fade), yellow=_f(yel0), yellow_edge=_f(edge_yel))
    rec.update(edge_width=_f(edge_w), keep=_f(keep0), hand_coloured=bool(hand), hand_keep=_f(keep_hi))
    mir_p, mir_lo, mir_hi = p["mirror"]
    mirror = rng.uniform(mir_lo, mir_hi) if rng.random() < mir_p else 0.0
    mir_w = rng.uniform(0.05, 0.2)
    mir_field = mirror * np.exp(-edge / mir_w) * _smooth(_noise(rng, (lh, lw), 6), -0.8, 0.8)
    fields = np.dstack([fade, yel, blotch, mir_field]).astype(np.float32)
    fields = cv2.resize(fields, (w, h), interpolation=cv2.INTER_LINEAR)
    fade, yel, blotch, mir_field = (fields[:, :, i] for i in range(4))
    # --- tone rendering in density space ---------------------------------------------------------------------------
    lum = cv2.transform(x, np.array([[0.299, 0.587, 0.114]], np.float32)).reshape(h, w)
    dens = -np.log10(np.maximum(lum, 10.0**-3)) * gamma
    dens = dmax * np.tanh(dens / dmax)  # the paper cannot print deeper than its maximum density: a soft shoulder
    d0 = rng.uniform(0.25, 0.6)
    # Fading: a fraction of every density is lost, most at low densities (finely divided silver oxidises first).
    dens = dens * (1.0 - fade * (0.35 + 0.65 * np.exp(-dens / d0)))
    fade_shift = np.float32([-0.25, -0.05, 0.3]) * np.float32(rng.uniform(0.2, 0.8))  # faded silver turns yellow-brown
    yel_dir = np.float32([rng.uniform(0.02, 0.07), rng.uniform(0.08, 0.17), rng.uniform(0.28, 0.42)])
    paper0 = rng.uniform(0.0, 0.03)  # base density of the paper: never perfectly white
    keep = np.float32(keep0)
    if hand:  # hand colouring survives in patches, on the parts the colourist painted (the saturated ones)
        r, g, b = cv2.split(x)
        sat = cv2.max(cv2.max(r, g), b) - cv2.min(cv2.min(r, g), b)
        keep = (keep0 + (keep_hi - keep0) * blotch * _smooth(sat, 0.05, 0.25))[:, :, None]
    mono = 1.0 - keep
    ratio = np.log((x + 0.03) / (lum[:, :, None] + 0.03))  # the subject's colour as a multiplicative dye layer
    kk = 1.0 + mono * (k0 - 1.0).astype(np.float32) + fade[:, :, None] * fade_shift
    paper_d = np.float32(paper0) + yel[:, :, None] * yel_dir
    out = np.exp(-_LN10 * (kk * dens[:, :, None] + paper_d) + keep * ratio)
    rec.update(fade_d0=_f(d0), fade_shift=_f(fade_shift), yellow_dir=_f(yel_dir), paper_density=_f(paper0))
    # --- silver mirroring: metallic silver at the surface reflects a bluish sheen over dense areas -----------------
    if mirror > 0:
        mcol = np.array([0.5, 0.54, 0.61]) * rng.uniform(0.75, 1.2) + rng.normal(0, 0.015, 3)
        a = (mir_field * _smooth(dens, 0.4, 1.3))[:, :, None]
        out = out * (1.0 - a) + a * mcol.astype(np.float32)
        rec["mirroring"] = {"strength": _f(mirror), "width": _f(mir_w), "colour": _f(mcol)}
    paper_rgb = np.exp(-_LN10 * (paper0 + yel0 * yel_dir))
    mask = np.zeros((h, w), bool)
    marks: dict = {}
    # --- water stain: the tide line gathers dissolved degradation products at the drying front ---------------------
    if rng.random() < p["tide"]:
        c, rad = rng.uniform(0.1, 0.9, 2), rng.uniform(0.15, 0.5)
        yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
        dist = np.hypot(yy / lh - c[0], (xx / lw - c[1]) * lw / lh * rng.uniform(0.6, 1.4))
        phi = 1.0 - dist / rad + 0.25 * _noise(rng, (lh, lw), 3)
        gy, gx = np.gradient(phi)
        grad = np.maximum(np.hypot(gy, gx) * (min(lh, lw) / min(h, w)), 1e-4)
        phi, grad = (cv2.resize(v.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) for v in (phi, grad))
        dpx = phi / grad  # roughly a signed distance to the stain edge in pixels (positive inside)
        w_in, w_out = rng.uniform(4, 14) * s + 0.5, 1.5 * s + 0.5
        tide = np.where(dpx >= 0, np.exp(-np.maximum(dpx, 0) / w_in), np.exp(-(np.minimum(dpx, 0) / w_out) ** 2))
        tide_a, inner = rng.uniform(0.15, 0.55), rng.uniform(-0.08, 0.15)
        brown = np.float32([0.35, 0.6, 0.85])
        out = out * (1.0 - (tide_a * tide)[:, :, None] * brown - (inner * _smooth(dpx, 0, 20 * s))[:, :, None] * brown)
        mask |= tide * tide_a > 0.08
        marks["tide_line"] = _f([tide_a, inner, rad])
    # --- foxing --------------------------------------------------------------------------------------------------
    if rng.random() < p["fox"][0]:
        fox = np.zeros((h, w), np.float32)
        radii = _spots(rng, h, w, int(rng.integers(p["fox"][1], p["fox"][2] + 1)), s, fox)
        fcol = np.float32([rng.uniform(0.7, 0.9), rng.uniform(0.42, 0.6), rng.uniform(0.18, 0.35)])
        out = out * (1.0 - fox[:, :, None] * (1.0 - fcol))
        mask |= fox > 0.08
        marks["foxing"] = {"count": len(radii), "mean_radius": _f(np.mean(radii) if radii else 0), "colour": _f(fcol)}
    # --- linear marks: each is a coverage map blended towards a colour ----------------------------------------------
    def blend(cov, col, name, info):
        nonlocal out, mask
        idx = np.nonzero(cov)  # the marks are thin: blend only the pixels they touch
        a = cov[idx][:, None]
        out[idx] = out[idx] * (1.0 - a) + a * np.asarray(col, np.float32)
        mask[idx] |= a[:, 0] > 0.15
        marks[name] = info
    t0, t1 = max(1, round(s)), max(1, round(1.5 * s))
    short = min(h, w)
    if rng.random() < p["crease"]:  # a fold: emulsion breaks into a light line, relief shades the two sides
        e0, e1 = rng.uniform(0, 1, 2)
        corner = rng.random() < 0.5
        p0 = (rng.uniform(0, 0.35) * w, 0.0) if corner else (e0 * w, 0.0)
        p1 = (0.0, rng.uniform(0, 0.35) * h) if corner else (e1 * w, float(h))
        line = _polyline(rng, p0, p1, 24, 0.6 * s + 0.2)
        d = np.subtract(p1, p0)
        nrm = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9) * (2.0 * s + 1.0)
        t2 = max(1, round(2.5 * s))
        shade = _canvas(h, w, [line + nrm], t2) - _canvas(h, w, [line - nrm], t2)
        rel = rng.uniform(0.1, 0.3)
        out = out * (1.0 - rel * shade[:, :, None])
        blend(_canvas(h, w, [line], t1) * rng.uniform(0.5, 0.95), paper_rgb, "crease",
              {"corner": bool(corner), "relief": _f(rel)})
        mask |= np.abs(shade) > 0.3
    if rng.random() < p["cracks"][0]:  # crazing of a brittle emulsion (or cracked card): short jagged walks
        lines = []
        for _ in range(int(rng.integers(p["cracks"][1], p["cracks"][2] + 1))):
            n = int(rng.integers(4, 14))
            steps = rng.normal(0, 0.3, n).cumsum() + rng.uniform(0, 2 * np.pi)
            seg = rng.uniform(0.01, 0.03) * short
            pts = np.cumsum(np.c_[np.cos(steps), np.sin(steps)] * seg, axis=0) + rng.uniform(0, 1, 2) * (w, h)
            lines.append(pts)
        dark = rng.random() < 0.35  # dirt settles into old cracks
        col = out[::8, ::8].reshape(-1, 3).mean(axis=0) * 0.35 if dark else paper_rgb
        info = {"count": len(lines), "dark": bool(dark)}
        blend(_canvas(h, w, lines, t0) * rng.uniform(0.4, 0.9), col, "cracks", info)
    if rng.random() < p["scratch"][0]:  # abrasion of the emulsion exposes the lighter baryta / paper
        lines = []
        for _ in range(int(rng.integers(p["scratch"][1], p["scratch"][2] + 1))):
            p0, ang = rng.uniform(0, 1, 2) * (w, h), rng.uniform(0, np.pi)
            length = short * np.exp(rng.uniform(-3, -0.4))  # 5 % to 67 % of the short side, mostly short
            lines.append(_polyline(rng, p0, p0 + length * np.array([np.cos(ang), np.sin(ang)]), 8, 0.3 * s))
        blend(_canvas(h, w, lines, t0) * rng.uniform(0.35, 0.85), paper_rgb * 1.02, "scratches", {"count": len(lines)})
    if rng.random() < p["pin"][0]:  # pinholes from display pins: the dark backing shows through
        can = np.zeros((h, w), np.uint8)
        n = int(rng.integers(p["pin"][1], p["pin"][2] + 1))
        for _ in range(n):
            cxy = tuple(int(v * 16) for v in rng.uniform(0, 1, 2) * (w, h))
            cv2.circle(can, cxy, int(16 * max(1.0, rng.uniform(1.0, 2.5) * s)), 255, -1, cv2.LINE_AA, 4)
        blend(can.astype(np.float32) / 255.0 * rng.uniform(0.6, 1.0), (0.12, 0.1, 0.09), "pinholes", {"count": n})
    rec["marks"] = marks
    return to_uint8(np.clip(out, 0.0, 1.0)), mask, rec
