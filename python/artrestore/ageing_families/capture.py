"""Capture damage: a picture (print, painting, document) copied badly with a camera or a scanner, then re-encoded.

The reproduction chain, in physical order and in linear light (sRGB primaries, D65 white):

1. Local marks (the only things in the mask): dust on the scanner glass (small dark specks) and on the lens (large
   faint defocused discs), hairs and fibres, Newton's rings where a glossy original touches the glass (thin-film
   interference, one ring period per channel), specular glare patches (no cross-polarisation).
2. The copy light: tungsten, halogen, daylight, shade, fluorescent (green spike: Duv above the Planckian locus and
   dull reds), LED, or two mixed across the field. Light and the camera's white-balance guess are CIE xy white points;
   the cast is the von Kries adaptation between them in Bradford cone space (a mired and Duv error).
3. The lens: off-centre vignetting and lamp fall-off, veiling glare (an uneven additive haze of the lamp's colour,
   proportional to the mean light), an exposure error in stops.
4. The sensor: shot noise (variance proportional to signal) plus read noise, full-well clipping, demosaicing softness.
5. Rendering: white balance, an uncalibrated colour matrix and saturation, a profile mismatch (a wide- or narrow-gamut
   space read as sRGB or the reverse, a 3x3 matrix in linear light); a tone curve: the sRGB encoding raised to a
   gamma-mismatch power, an S-curve, black and white points (crushed or lifted shadows, clipped or dull highlights).
6. Storage: JPEG with chroma subsampling at a low quality, sometimes saved twice.

Input: ``clean`` uint8 H x W x 3 RGB (or float32 in [0, 1]). Output: damaged uint8 RGB, bool mask of local marks,
JSON-serialisable record. Sizes at a 512 px short side. Written apart from the project's other generators.
"""
from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np

from artrestore._validate import damage_input, to_uint8

__all__ = ["VERSION", "SEVERITIES", "damage"]

VERSION = "capture-1"
SEVERITIES = ("light", "moderate", "severe")
_SALT = 0x63617074757265  # "capture": keeps this family's streams apart from others seeded alike

_D65 = (0.3127, 0.3290)
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_XYZ_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
# Primaries (xy of R, G, B) of spaces a copy or film scan is often left in. White stays D65: a missing
# profile conversion moves saturation and hue but leaves neutrals alone.
_SPACES = {"adobe_rgb": ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)),
           "eci_rgb": ((0.67, 0.33), (0.21, 0.71), (0.14, 0.08)),
           "display_p3": ((0.68, 0.32), (0.265, 0.69), (0.15, 0.06)),
           "apple_rgb": ((0.625, 0.34), (0.28, 0.595), (0.155, 0.07)),
           "prophoto": ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)),
           "wide_gamut": ((0.7347, 0.2653), (0.1152, 0.8264), (0.1566, 0.0177))}
# Copy lights: CCT range (K) and Duv range (+ = above the Planckian locus, greener).
_LIGHTS = {"tungsten": (2600, 3300, -0.002, 0.002), "halogen": (3000, 3600, -0.001, 0.003),
           "daylight": (4800, 7000, 0.0, 0.004), "shade": (7000, 11000, 0.0, 0.004),
           "fluorescent": (3000, 6500, 0.004, 0.012), "led": (2700, 6500, -0.003, 0.006)}
# Per-severity draws, (light, moderate, severe); calibrated to mean PSNR ~27.5 / ~20.5 / ~15 dB on photographs.
_MIRED = ((4.0, 22.0), (18.0, 65.0), (50.0, 140.0))  # white-balance error, |mired|
_DUV = (0.004, 0.009, 0.015)  # white-balance tint error, |Duv|
_EV = ((0.03, 0.25), (0.15, 0.6), (0.4, 1.1))  # exposure error, |stops|
_FLARE = ((0.0, 0.02), (0.01, 0.07), (0.04, 0.16))  # veiling glare, fraction of the mean light
_VIGNETTE = ((0.0, 0.15), (0.05, 0.35), (0.15, 0.6))  # light lost in the corners
_NOISE = ((1e-4, 6e-4), (3e-4, 1.8e-3), (8e-4, 3.5e-3))  # shot-noise variance per unit signal (1 = full well)
_BLUR = ((0.3, 0.7), (0.5, 1.0), (0.7, 1.5))  # demosaicing softness, Gaussian sigma in px
_MARK_P = ((0.5, 0.2, 0.15, 0.05, 0.1), (0.7, 0.35, 0.35, 0.15, 0.25), (0.9, 0.5, 0.6, 0.3, 0.45))
# Tone: gamma-mismatch log spread, S-curve strength, black point, white point.
_TONE = ((0.06, (-0.1, 0.15), (-0.01, 0.012), (0.97, 1.015)), (0.18, (-0.3, 0.4), (-0.03, 0.04), (0.92, 1.05)),
         (0.3, (-0.5, 0.7), (-0.06, 0.08), (0.86, 1.1)))
_RENDER = ((0.02, 0.1, 0.15), (0.045, 0.25, 0.4), (0.07, 0.35, 0.6))  # matrix error sd, log saturation, P(profile)
_MID_BUDGET = (30, 55, 80)  # most codes a mid-grey may move by exposure and tone together
_JPEG_Q = ((72, 95), (45, 85), (22, 62))
_SAMPLING = {"420": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, "422": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
             "444": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}
_CODES = np.arange(256) / 255.0
_SRGB_DECODE = np.where(_CODES <= 0.04045, _CODES / 12.92, ((_CODES + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LUT_SIZE = 8192  # linear-light steps of the tone LUT: fine enough that shadows do not posterise


def _cct_to_xy(cct: float, duv: float = 0.0) -> np.ndarray:
    """Planckian locus (Kim et al. cubic fit, 1667-25000 K) moved ``duv`` along the CIE 1960 normal (+ = greener)."""
    def planck_uv(t):
        x = (-3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390 if t >= 4000
             else -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910)
        if t < 2222:
            y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
        elif t < 4000:
            y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
        else:
            y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
        return np.array([4 * x, 6 * y]) / (-2 * x + 12 * y + 3)

    t = float(np.clip(cct, 1700.0, 24000.0))
    tangent = planck_uv(t * 1.01) - planck_uv(t / 1.01)
    u, v = planck_uv(t) + duv * np.array([-tangent[1], tangent[0]]) * np.sign(tangent[0]) / np.hypot(*tangent)
    return np.array([3 * u, 2 * v]) / (2 * u - 8 * v + 4)


def _xyz(xy) -> np.ndarray:
    return np.array([xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1]])


def _linear_cast(src_xy, dst_xy) -> np.ndarray:
    """Von Kries adaptation in Bradford cone space from white ``src_xy`` to white ``dst_xy``, on linear sRGB."""
    gain = (_BRADFORD @ _xyz(dst_xy)) / (_BRADFORD @ _xyz(src_xy))
    return _XYZ_TO_SRGB @ np.linalg.inv(_BRADFORD) @ np.diag(gain) @ _BRADFORD @ _SRGB_TO_XYZ


def _field(rng, h: int, w: int) -> np.ndarray:
    """A smooth random field of mean 0 and std 1 (for uneven light), drawn coarse and resized."""
    g = cv2.GaussianBlur(rng.standard_normal((12, 12)).astype(np.float32), (0, 0), 2.5)
    return cv2.resize((g - g.mean()) / (g.std() + 1e-6), (w, h), interpolation=cv2.INTER_CUBIC)


def _uniform(rng, lo_hi) -> float:
    return float(rng.uniform(*lo_hi))


def _box(cx: float, cy: float, half: float, h: int, w: int):
    """Slices of a square window around (cx, cy), clipped to the image, and the offsets of its rows and columns."""
    y0, y1 = max(int(cy - half), 0), min(int(cy + half) + 2, h)
    x0, x1 = max(int(cx - half), 0), min(int(cx + half) + 2, w)
    dy, dx = np.arange(y0, y1, dtype=np.float32)[:, None] - cy, np.arange(x0, x1, dtype=np.float32)[None, :] - cx
    return (slice(y0, y1), slice(x0, x1)), dy, dx


def _local_marks(rng, h, w, s, k, rec):
    """Attenuation (multiplicative, linear light), specular glare (additive, linear light), Newton's ring patches."""
    atten, glare, rings = np.ones((h, w), np.float32), np.zeros((h, w), np.float32), []
    where = lambda: rng.uniform(0, 1, 2) * (w, h)  # noqa: E731
    p_dust, p_lens, p_hair, p_rings, p_glare = _MARK_P[k]
    if rng.random() < p_dust:  # in-focus dust on the glass: small dark specks, their number grows with the area
        rec["dust"] = []
        for _ in range(min(int(rng.integers(2, (10, 25, 60)[k]) * h * w / 512.0**2 + 1), 400)):
            r, depth, ax = s * np.exp(_uniform(rng, (-0.5, 1.4))), _uniform(rng, (0.25, 0.9)), rng.uniform(0.5, 1)
            cx, cy = where()
            win, dy, dx = _box(cx, cy, 3 * r + 1, h, w)
            atten[win] *= 1 - depth * np.exp(-(((dy / ax) ** 2 + dx**2) / (r * r + 0.25)) ** 1.5)
            rec["dust"].append([cx / w, cy / h, r, depth])
    if rng.random() < p_lens:  # dust on the lens: defocused into faint discs the shape of the aperture
        rec["lens_dust"] = []
        for _ in range(int(rng.integers(1, 5))):
            r, depth, (cx, cy) = s * _uniform(rng, (10, 40)), _uniform(rng, (0.06, 0.15)), where()
            win, dy, dx = _box(cx, cy, r + 1, h, w)
            atten[win] *= 1 - depth * np.clip((r - np.sqrt(dy * dy + dx * dx)) / (0.25 * r) + 0.5, 0, 1)
            rec["lens_dust"].append([cx / w, cy / h, r, depth])
    if rng.random() < p_hair:  # hairs and fibres: random-walk curves, mostly dark (a shadow), some lit lint
        canvas, hairs = np.zeros((h, w), np.uint8), []
        for _ in range(int(rng.integers(1, (3, 4, 6)[k]))):
            length, width = s * _uniform(rng, (20, 160)), max(1, round(s * _uniform(rng, (0.7, 2.0))))
            n = max(int(length / (3 * s)), 3)
            ang = _uniform(rng, (0, 2 * np.pi)) + np.cumsum(rng.normal(0, 0.25, n))
            pts = np.cumsum(np.stack([np.cos(ang), np.sin(ang)], 1) * length / n, 0) + where()
            cv2.polylines(canvas, [np.round(pts * 16).astype(np.int32)], False, 255, width, cv2.LINE_AA, 4)
            hairs.append([length, width])
        darkness = _uniform(rng, (0.4, 0.9)) * (1 if rng.random() < 0.8 else -0.6)
        atten *= 1 - darkness / 255 * canvas.astype(np.float32)
        rec["hairs"] = {"items": hairs, "darkness": darkness}
    if rng.random() < p_rings:  # Newton's rings where a glossy original touches the glass
        r_env, amp, ax, curv = s * rng.uniform(40, 150), rng.uniform(0.06, 0.2), rng.uniform(0.5, 1), rng.uniform(4, 14)
        cx, cy = where()
        rings.append((cx, cy, r_env, amp, ax, curv))
        rec["newton_rings"] = [cx / w, cy / h, r_env, amp, ax, curv]
    if rng.random() < p_glare:  # specular reflection of the lamp: an elongated soft patch of added light
        rec["glare"] = []
        for _ in range(int(rng.integers(1, 3))):
            sx, sy, th = s * _uniform(rng, (20, (80, 120, 160)[k])), s * _uniform(rng, (8, 50)), rng.uniform(0, np.pi)
            peak, (cx, cy) = _uniform(rng, (0.05, (0.15, 0.3, 0.5)[k])), where()
            win, dy, dx = _box(cx, cy, 3.5 * max(sx, sy), h, w)
            u, v = dx * np.cos(th) + dy * np.sin(th), dy * np.cos(th) - dx * np.sin(th)
            glare[win] += peak * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
            rec["glare"].append([cx / w, cy / h, sx, sy, th, peak])
    return atten, glare, rings


def _apply_rings(lin, mask, rings, h, w):
    """Air gap d ~ r^2 / 2R around the contact: bright where 2d is a whole number of wavelengths, per channel."""
    for cx, cy, r_env, amp, ax, curv in rings:
        win, dy, dx = _box(cx, cy, 1.8 * r_env, h, w)
        rho2 = ((dy / ax) ** 2 + dx**2) / r_env**2
        env = amp * np.exp(-rho2)  # coherence is lost as the gap grows, so only rings near contact show
        phase = curv * rho2[..., None] * np.array([540 / 610, 1.0, 540 / 465], np.float32)  # per-wavelength period
        lin[win] *= 1 + env[..., None] * np.cos(2 * np.pi * phase)
        mask[win] |= env > 0.03


def _tone_lut(p, contrast, black, white):
    """Linear light -> uint8 code: sRGB encoding, gamma-mismatch power, S-curve, black/white points."""
    x = np.linspace(0.0, 1.0, _LUT_SIZE)
    y = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055) ** p
    y = (1 - contrast) * y + contrast * y * y * (3 - 2 * y)
    return to_uint8(np.clip((y - black) / (white - black), 0, 1))


def damage(clean, severity: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Copy ``clean`` through a badly controlled camera/scanner chain: ``(damaged uint8, mask bool, record)``."""
    img = damage_input(clean, severity, seed, SEVERITIES)
    h, w = img.shape[:2]
    if h < 32 or w < 32:
        raise ValueError(f"clean: image is {h}x{w} pixels; capture damage needs at least 32x32")
    k, seed = SEVERITIES.index(severity), int(seed)
    digest = hashlib.blake2b(img.tobytes() + str(img.shape).encode(), digest_size=16).digest()
    rng = np.random.default_rng([2 * seed if seed >= 0 else -2 * seed - 1, k, _SALT, int.from_bytes(digest, "little")])
    s = min(h, w) / 512.0
    rec: dict = {"model": VERSION, "severity": severity, "seed": seed}
    atten, glare, rings = _local_marks(rng, h, w, s, k, rec)
    mask = (np.abs(atten - 1) > 0.05) | (glare > 0.04)
    lin = _SRGB_DECODE[img] * atten[..., None] + glare[..., None]  # glare is lamp light: neutral before the cast
    _apply_rings(lin, mask, rings, h, w)
    # The copy light (one lamp, or two blended across the field) and the camera's idea of it.
    mixed = bool(rng.random() < (0.1, 0.2, 0.3)[k])
    lights = []
    for i in rng.choice(len(_LIGHTS), 2 if mixed else 1, replace=False):
        name, (t0, t1, d0, d1) = list(_LIGHTS.items())[i]
        lights.append((name, float(np.exp(rng.uniform(np.log(t0), np.log(t1)))), _uniform(rng, (d0, d1))))
    light_xy = [_cct_to_xy(t, d) for _, t, d in lights]
    alpha = np.zeros((1, 1, 1), np.float32)
    if mixed:  # e.g. a window on one side and a lamp on the other
        th = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(th) * (np.arange(w) / w - 0.5)[None, :] + np.sin(th) * (np.arange(h) / h - 0.5)[:, None]
        alpha = np.clip(0.5 + 1.2 * ramp + 0.15 * _field(rng, h, w), 0, 1).astype(np.float32)[..., None]
    a = float(alpha.mean())  # an auto white balance settles on the average light
    est_mired = (1 - a) * 1e6 / lights[0][1] + a * 1e6 / lights[-1][1]
    est_duv = (1 - a) * lights[0][2] + a * lights[-1][2]
    d_mired, d_duv = _uniform(rng, _MIRED[k]) * float(rng.choice([-1.0, 1.0])), _uniform(rng, (-_DUV[k], _DUV[k]))
    # A camera's white balance spans about 2500-12000 K and a bounded tint; beyond that (warm and green) Bradford's
    # sharpened short-wave response nears zero and the blue gain would run away.
    cam_cct = 1e6 / float(np.clip(est_mired + d_mired, 83, 400))
    cam_xy = _cct_to_xy(cam_cct, float(np.clip(est_duv + d_duv, -0.02, 0.006)))
    scene = [_linear_cast(_D65, xy) for xy in light_xy]  # the original lit by each lamp, as the sensor sees it
    cri = 0.0
    if any(n == "fluorescent" for n, _, _ in lights):  # a spiky spectrum renders reds dull: part of red read as green
        cri = _uniform(rng, (0.03, 0.12))
        scene = [m @ np.array([[1 - cri, cri, 0], [0, 1, 0], [0, 0, 1]]) for m in scene]
    raw = cv2.transform(lin, scene[0].astype(np.float32))
    if mixed:
        raw += alpha * cv2.transform(lin, (scene[1] - scene[0]).astype(np.float32))
    lamp_rgb = np.mean([m.sum(1) for m in scene], 0).astype(np.float32)
    rec["illuminant"] = {"lights": lights, "mixed": mixed, "light_xy": light_xy, "fluorescent_cri_loss": cri,
                         "camera_white_cct": cam_cct, "camera_white_xy": cam_xy, "mired_error": d_mired,
                         "duv_error": d_duv, "mix_mean": a}
    # Exposure and tone together: a frame far too dark or light gets noticed (by the copyist or a meter), so both
    # together move a mid-grey only so many codes, and the rare stacking of the two does not erase the picture.
    ev = ev_drawn = _uniform(rng, _EV[k]) * float(rng.choice([-1.0, 1.0]))
    spread, c_rng, b_rng, w_rng = _TONE[k]
    p, contrast = float(np.exp(rng.uniform(-spread, spread))), _uniform(rng, c_rng)
    black, white = _uniform(rng, b_rng), _uniform(rng, w_rng)
    lut = _tone_lut(p, contrast, black, white)
    while abs(int(lut[int(min(0.18 * 2**ev, 1.0) * (_LUT_SIZE - 1))]) - 118) > _MID_BUDGET[k] and abs(ev) > 0.05:
        ev *= 0.8
    # Lens: off-centre vignetting, lamp fall-off, veiling glare of the lamp's colour.
    vig, fall = _uniform(rng, _VIGNETTE[k]), _uniform(rng, (0, (0.08, 0.2, 0.35)[k]))
    oc, fall_dir = rng.uniform(-0.15, 0.15, 2), _uniform(rng, (0, 2 * np.pi))
    yv = ((np.arange(h, dtype=np.float32) / h - 0.5 - oc[1]) * (h / max(h, w)))[:, None]
    xv = ((np.arange(w, dtype=np.float32) / w - 0.5 - oc[0]) * (w / max(h, w)))[None, :]
    level = _uniform(rng, (0.75, 0.95)) / float(lamp_rgb.max())  # paper white is exposed below full well
    gain = (1 - vig) ** (2 * (xv * xv + yv * yv)) * (1 - fall * (0.5 + np.cos(fall_dir) * xv + np.sin(fall_dir) * yv))
    gain *= np.float32(level * 2.0**ev)
    flare = _uniform(rng, _FLARE[k])
    haze = flare * float(raw.mean() * gain.mean()) * np.clip(1 + 0.5 * _field(rng, h, w), 0.2, None)
    raw = raw * gain[..., None] + haze[..., None] * lamp_rgb
    rec["lens"] = {"exposure_ev": ev, "exposure_ev_drawn": ev_drawn, "white_level": level, "vignetting": vig,
                   "falloff": fall, "vignette_centre": oc, "falloff_direction": fall_dir, "veiling_glare": flare}
    # Sensor: shot + read noise in linear light, full-well clipping, demosaicing softness (which correlates the noise).
    shot, read = _uniform(rng, _NOISE[k]), _uniform(rng, (0.0005, (0.002, 0.004, 0.006)[k]))
    raw += np.sqrt(np.maximum(raw, 0) * shot + read * read) * rng.standard_normal(raw.shape, dtype=np.float32)
    blur = _uniform(rng, _BLUR[k]) * s
    raw = cv2.GaussianBlur(np.clip(raw, 0, 1, out=raw), (0, 0), blur)
    rec["sensor"] = {"shot_noise": shot, "read_noise": read, "demosaic_blur_px": blur}
    # Rendering, all 3x3 in linear light: white balance, colour-matrix error, saturation, profile mismatch.
    err_sd, sat_spread, p_profile = _RENDER[k]
    err = rng.normal(0, err_sd, (3, 3))
    err -= err.mean(1, keepdims=True)  # rows sum to zero, so neutrals stay neutral
    sat = float(np.exp(rng.uniform(-sat_spread, sat_spread)))
    prof, prof_rec = np.eye(3), None
    if rng.random() < p_profile:
        space = str(rng.choice(list(_SPACES)))
        prim = np.array([_xyz(xy) for xy in _SPACES[space]]).T
        other = prim * np.linalg.solve(prim, _xyz(_D65))  # its RGB -> XYZ, scaled so that RGB white is D65
        as_srgb = bool(rng.random() < 0.5)  # its values shown as sRGB, or sRGB values tagged with its profile
        full = np.linalg.inv(other) @ _SRGB_TO_XYZ if as_srgb else _XYZ_TO_SRGB @ other
        strength = _uniform(rng, (0.5, 1.0)) * (0.5 if k == 0 and space in ("prophoto", "wide_gamut") else 1.0)
        prof = np.eye(3) + strength * (full - np.eye(3))
        prof_rec = {"space": space, "read_as_srgb": as_srgb, "strength": strength}
    satm = sat * np.eye(3) + (1 - sat) * np.outer(np.ones(3), _SRGB_TO_XYZ[1])
    out = cv2.transform(raw, (prof @ satm @ (np.eye(3) + err) @ _linear_cast(cam_xy, _D65) / level).astype(np.float32))
    out = lut[(np.clip(out, 0, 1, out=out) * (_LUT_SIZE - 1) + 0.5).astype(np.int32)]
    rec["rendering"] = {"saturation": sat, "matrix_error": err, "profile_mismatch": prof_rec}
    rec["tone"] = {"gamma_power": p, "s_curve": contrast, "black_point": black, "white_point": white}
    # Storage: JPEG with chroma subsampling, sometimes saved again.
    rec["jpeg"] = []
    for i in range(2):
        if i == 1 and rng.random() >= (0.15, 0.35, 0.6)[k]:
            break
        q = int(rng.integers(*_JPEG_Q[k]))
        sub = str(rng.choice(["420", "422", "444"], p=((0.6, 0.2, 0.2), (0.75, 0.2, 0.05), (0.9, 0.1, 0.0))[k]))
        _, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR),
                              [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, _SAMPLING[sub]])
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        rec["jpeg"].append({"quality": q, "subsampling": sub})
    rec["local_marks"] = [m for m in ("dust", "lens_dust", "hairs", "newton_rings", "glare") if m in rec]
    return np.ascontiguousarray(out), mask, json.loads(json.dumps(rec, default=lambda o: o.tolist()))  # numpy -> plain
