"""Damage synthesis: clean RGB uint8 H x W x 3 in, a damaged image of the same shape out, plus a
dict of the damage parameters drawn (``synthesize_damage(clean, severity, seed)``). Deterministic
for a given (image, severity, seed). Damage, applied in the order real prints age and are scanned:
fading with lifted blacks, colour cast / yellowing, stains, craquelure cracks, scratches, dust
spots, blur, noise + film grain, JPEG artefacts. Lengths in pixels are for a 512 px short side and
scale with it.
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from artrestore._validate import as_rgb, to_uint8

__all__ = ["SEVERITIES", "synthesize_damage"]

SEVERITIES = ("light", "moderate", "severe")

# (low, high) ranges per severity; lengths in pixels are for a 512 px short side and scale with it.
_RANGES = {
    "light": dict(fade=(0.0, 0.12), lift=(0, 12), cast=(0.0, 0.06), yellow=(0.0, 0.05), blur=(0.0, 0.8),
                  noise=(0.0, 4.0), grain=(0.0, 2.0), jpeg=(80, 95), scratches=(0, 2), cracks=(0, 0),
                  spots=(0, 6), stains=(0, 0)),
    "moderate": dict(fade=(0.1, 0.28), lift=(8, 28), cast=(0.04, 0.14), yellow=(0.03, 0.12), blur=(0.8, 1.6),
                     noise=(3.0, 8.0), grain=(1.0, 4.0), jpeg=(50, 80), scratches=(2, 7), cracks=(0, 25),
                     spots=(6, 24), stains=(0, 2)),
    "severe": dict(fade=(0.22, 0.45), lift=(20, 50), cast=(0.1, 0.28), yellow=(0.08, 0.22), blur=(1.5, 3.0),
                   noise=(6.0, 14.0), grain=(2.0, 7.0), jpeg=(20, 50), scratches=(5, 16), cracks=(20, 80),
                   spots=(20, 70), stains=(1, 5)),
}


def _seed_for(image: np.ndarray, severity: str, seed: int) -> np.random.Generator:
    # Mixing a digest of the pixels in lets one seed give different damage to different images.
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=8).digest()
    return np.random.default_rng([seed, SEVERITIES.index(severity), int.from_bytes(digest, "little")])


def synthesize_damage(clean, severity: str = "moderate", seed: int = 0, *,
                      damage: dict | None = None) -> tuple[np.ndarray, dict]:
    """Damage a clean RGB uint8 image; returns ``(damaged uint8, parameters)``.

    ``damage`` replaces the random draw with exact amounts (keys as in the returned parameters:
    fade, lift, cast, yellow, blur, noise, grain, jpeg, scratches, cracks, spots, stains); keys
    left out mean none of that damage (jpeg 100), which isolates one kind of damage for tests.
    """
    if severity not in _RANGES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    clean = as_rgb(clean)
    if clean.dtype != np.uint8:
        clean = to_uint8(clean)
    rng = _seed_for(clean, severity, seed)
    ranges = _RANGES[severity]
    draw = {k: (float(rng.uniform(*v)) if isinstance(v[0], float) else int(rng.integers(v[0], v[1] + 1)))
            for k, v in ranges.items()}
    if damage is not None:
        unknown = set(damage) - set(ranges)
        if unknown:
            raise ValueError(f"unknown damage keys {sorted(unknown)}; use {sorted(ranges)}")
        draw = {k: type(v[0])(damage.get(k, 100 if k == "jpeg" else 0)) for k, v in ranges.items()}
    h, w = clean.shape[:2]
    scale = min(h, w) / 512.0
    x = clean.astype(np.float32)

    # Fading compresses contrast toward paper white-grey and lifts the blacks.
    x = x * (1 - draw["fade"]) + draw["fade"] * 200.0 + draw["lift"] * (1 - x / 255.0)
    # Colour cast: a random per-channel gain, plus yellowing (blue loss, red/green warmth).
    cast = 1 + rng.uniform(-draw["cast"], draw["cast"], 3)
    yellow = np.array([1 + draw["yellow"] * 0.3, 1 + draw["yellow"] * 0.1, 1 - draw["yellow"]])
    x = x * (cast * yellow).astype(np.float32)

    # Stains: large soft brownish blobs multiplied in.
    if draw["stains"]:
        mask = np.zeros((h, w), np.float32)
        for _ in range(draw["stains"]):
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.uniform(0.05, 0.2) * w), int(rng.uniform(0.05, 0.2) * h))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.15, 0.45)), -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, 12 * scale))
        tint = np.array([0.75, 0.6, 0.35], np.float32)
        x = x * (1 - mask[..., None] * (1 - tint))

    overlay = np.zeros((h, w), np.float32)  # signed: dark cracks < 0 < bright scratches
    thickness = max(1, int(round(scale)))
    # Craquelure: short jagged random walks of dark hairlines.
    for _ in range(draw["cracks"]):
        p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, 2 * np.pi)
        pts = [p.copy()]
        for _ in range(int(rng.integers(4, 12))):
            angle += rng.normal(0, 0.6)
            p = p + rng.uniform(6, 18) * scale * np.array([np.cos(angle), np.sin(angle)])
            pts.append(p.copy())
        cv2.polylines(overlay, [np.int32(pts)], False, -float(rng.uniform(60, 120)), thickness)
    # Scratches: long, nearly straight bright or dark lines.
    for _ in range(draw["scratches"]):
        a = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.2, 0.8) * max(h, w)
        b = a + length * np.array([np.cos(angle), np.sin(angle)])
        sign = 1 if rng.random() < 0.7 else -1
        cv2.line(overlay, tuple(map(int, a)), tuple(map(int, b)), sign * float(rng.uniform(70, 160)), thickness)
    # Dust spots.
    for _ in range(draw["spots"]):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        radius = max(1, int(rng.uniform(1, 4) * scale))
        cv2.circle(overlay, centre, radius, float(rng.choice([-1, 1]) * rng.uniform(60, 140)), -1)
    x = x + overlay[..., None]

    if draw["blur"] > 0.05:
        x = cv2.GaussianBlur(x, (0, 0), draw["blur"] * scale)
    # Sensor noise (per channel) and film grain (soft, shared by the channels, stronger in midtones).
    noise = rng.normal(0, 1, x.shape).astype(np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.8)
    midtones = 4 * (x.mean(axis=2) / 255) * (1 - x.mean(axis=2) / 255)
    x = x + draw["noise"] * noise + (draw["grain"] * 2.5 * grain * np.clip(midtones, 0, 1))[..., None]

    damaged = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if draw["jpeg"] < 100:
        ok, encoded = cv2.imencode(".jpg", damaged[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, draw["jpeg"]])
        damaged = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1])
    draw.update(severity=severity, seed=seed, cast_r=float(cast[0]), cast_g=float(cast[1]), cast_b=float(cast[2]))
    return damaged, draw
