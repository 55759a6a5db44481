"""Independent NumPy reference of the core's features and operations (written from docs/features.md,
not from the C++), used by the tests as the ground truth the core is checked against."""
from __future__ import annotations

import numpy as np

N = 256
NAMES = (
    "mean", "std_dev", "skewness", "kurtosis", "low_freq_energy", "high_freq_energy", "energy_ratio",
    "radial_center", "radial_25", "radial_50", "radial_75", "radial_edge", "color_balance_need", "sharpening_need",
)


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Row i averages the input interval [i*s, (i+1)*s), s = n_in / n_out, by overlap length."""
    scale = n_in / n_out
    edges_out = np.arange(n_out + 1) * scale
    lo = np.maximum(edges_out[:-1, None], np.arange(n_in)[None, :])
    hi = np.minimum(edges_out[1:, None], np.arange(n_in)[None, :] + 1)
    return np.clip(hi - lo, 0, None) / scale


def working_image(image: np.ndarray) -> np.ndarray:
    x = image.astype(np.float64) / (255.0 if image.dtype == np.uint8 else 1.0)
    rows, cols = area_matrix(x.shape[0], N), area_matrix(x.shape[1], N)
    vertical = np.tensordot(rows, x, axes=(1, 0))  # N x W x 3
    return np.einsum("lk,ikc->ilc", cols, vertical, optimize=True)


def features(image: np.ndarray) -> dict[str, float]:
    rgb = working_image(image)
    y = rgb @ np.array([0.299, 0.587, 0.114])
    mu, sigma = y.mean(), y.std()
    z = (y - mu) / sigma if sigma > 1e-6 else np.zeros_like(y)
    out = {"mean": mu, "std_dev": sigma, "skewness": (z**3).mean(), "kurtosis": (z**4).mean() - 3 if sigma > 1e-6 else 0.0}

    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N) / N)
    power = np.abs(np.fft.fft2((y - mu) * np.outer(hann, hann))) ** 2
    f = np.fft.fftfreq(N) * N
    r = np.hypot(f[:, None], f[None, :]) / (N / 2)
    nonzero = r > 0
    total = power[nonzero].sum()
    low = power[nonzero & (r <= 0.125)].sum() / total
    high = power[r > 0.25].sum() / total
    out.update(low_freq_energy=low, high_freq_energy=high, energy_ratio=high / (low + 1e-6))
    mean_power = power[nonzero].mean()
    bands = {
        "radial_center": nonzero & (r <= 1 / 16),
        "radial_25": np.abs(r - 0.25) <= 1 / 32,
        "radial_50": np.abs(r - 0.5) <= 1 / 32,
        "radial_75": np.abs(r - 0.75) <= 1 / 32,
        "radial_edge": (r > 15 / 16) & (r <= 1),
    }
    for name, mask in bands.items():
        out[name] = 10 * np.log10((power[mask].mean() + 1e-12 * mean_power) / mean_power)

    means = rgb.reshape(-1, 3).mean(axis=0)
    grey = means.mean()
    out["color_balance_need"] = np.clip(np.sqrt(((means - grey) ** 2).mean()) / max(grey, 1 / 255) / 0.5, 0, 1)
    alpha = -(out["radial_75"] - out["radial_25"]) / (10 * np.log10(3))
    out["sharpening_need"] = np.clip((alpha - 2.5) / 4.0, 0, 1)
    return {k: float(out[k]) for k in NAMES}


def gaussian_kernel(sigma: float) -> np.ndarray:
    ksize = int(np.rint(sigma * 6 + 1)) | 1  # OpenCV's size rule for 8-bit images
    radius = max(1, ksize // 2)
    x = np.arange(-radius, radius + 1)
    k = np.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian with mirror borders that do not repeat the edge (BORDER_REFLECT_101)."""
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode="reflect")
    h = sum(k[i] * padded[:, i:i + x.shape[1]] for i in range(len(k)))
    return sum(k[i] * h[i:i + x.shape[0]] for i in range(len(k)))


def unsharp_mask(image: np.ndarray, sigma: float, strength: float, threshold: float = 0.0, top=None) -> np.ndarray:
    """Float result (not rounded) in the image's units, clipped to [0, top] (255 for uint8, else 1)."""
    if top is None:
        top = 255.0 if image.dtype == np.uint8 else 1.0
    x = image.astype(np.float64)
    detail = x - gaussian_blur(x, sigma)
    detail[np.abs(detail) <= threshold * top / 255.0] = 0
    return np.clip(x + strength * detail, 0, top)


def color_transform(image: np.ndarray, clip_percent: float = 0.5):
    """Grey-world gains then a joint percentile stretch, from the same strided sample the core uses."""
    h, w = image.shape[:2]
    step = max(1, int(np.ceil(np.sqrt(h * w / 262144.0))))
    sample = image[::step, ::step].reshape(-1, 3)
    if image.dtype != np.uint8:
        sample = np.rint(np.clip(sample, 0, 1) * 255)
    sample = sample.astype(np.float64)
    means = sample.mean(axis=0)
    gains = np.clip(np.where(means >= 1, means.mean() / means, 1.0), 1 / 3, 3)
    balanced = np.minimum(sample * gains, 255).ravel()
    # Lower percentile: first value whose cumulative count exceeds the rank; upper: reaches it.
    values = np.sort(balanced)
    n = values.size
    lo = values[int(np.floor(n * clip_percent / 100))]
    hi = values[int(np.ceil(n * (1 - clip_percent / 100))) - 1]
    offsets = np.zeros(3)
    if hi - lo >= 1:
        scale = min(255 / (hi - lo), 8.0)
        gains, offsets = gains * scale, np.full(3, -lo * scale)
    if image.dtype != np.uint8:
        offsets = offsets / 255
    return gains, offsets


# ------------------------------------------------------------------ damage measures (13 extra features)
EXTRA_NAMES = (
    "noise_sigma", "chroma_noise_sigma", "blur_exponent", "blockiness", "line_fraction", "cast_chroma",
    "cast_red_green", "cast_yellow_blue", "colorfulness", "chroma_unevenness", "black_point", "white_point",
    "dynamic_range",
)


def _spans(n: int, grid: int = 8, tile: int = 32) -> list[tuple[int, int]]:
    t = min(tile, (n // grid) // 8 * 8)
    if t < 8:
        return [(0, n)]
    return [(min(max((((2 * i + 1) * n) // (2 * grid) - t // 2) // 8 * 8, 0), (n - t) // 8 * 8), t)
            for i in range(grid)]


def _immerkaer(x: np.ndarray) -> np.ndarray:
    """|[1 -2 1; -2 4 -2; 1 -2 1] * x| on the interior."""
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)
    h, w = x.shape
    return np.abs(sum(k[a, b] * x[a:h - 2 + a, b:w - 2 + b] for a in range(3) for b in range(3)))


def _line_response(y: np.ndarray, reach: int = 4, half_run: int = 3) -> np.ndarray:
    """Strongest thin-line response held along a run of 2 half_run + 1 pixels, over 4 directions,
    on pixels reach + half_run from the border."""
    h, w = y.shape
    m = reach + half_run
    out = np.zeros((h - 2 * m, w - 2 * m))
    for dy, dx in ((1, 0), (0, 1), (1, 1), (1, -1)):
        def at(oy, ox):  # y shifted by (oy, ox) over the region [reach, h-reach) x [reach, w-reach)
            return y[reach + oy:h - reach + oy, reach + ox:w - reach + ox]
        resp = np.zeros((h - 2 * reach, w - 2 * reach))
        for k in (2, 4):
            p, q, c = at(k * dy, k * dx), at(-k * dy, -k * dx), at(0, 0)
            resp = np.maximum(resp, np.maximum(np.minimum(p, q) - c, c - np.maximum(p, q)))
        ay, ax = dx, -dy  # along the line
        H, W = resp.shape
        run = resp[half_run:H - half_run, half_run:W - half_run]
        for t in range(-half_run, half_run + 1):
            run = np.minimum(run, resp[half_run + t * ay:H - half_run + t * ay, half_run + t * ax:W - half_run + t * ax])
        out = np.maximum(out, run)
    return out


def extra_features(image: np.ndarray) -> dict[str, float]:
    """The 13 damage measures, written from docs/features.md."""
    native = image.astype(np.float64) * (1.0 if image.dtype == np.uint8 else 255.0)
    h, w = native.shape[:2]
    grads, luma_res, chroma_res, lines = [], [], [], []
    sf1 = sf3 = n1 = n3 = edge = edge_n = inner = inner_n = 0.0
    for y0, th in _spans(h):
        for x0, tw in _spans(w):
            t = native[y0:y0 + th, x0:x0 + tw]
            y = t @ np.array([0.299, 0.587, 0.114])
            o1 = (t[..., 0] - t[..., 1]) / np.sqrt(2)
            o2 = (t[..., 0] + t[..., 1] - 2 * t[..., 2]) / np.sqrt(6)
            if th >= 3 and tw >= 3:
                g = np.abs(y[1:-1, 2:] - y[1:-1, :-2]) + np.abs(y[2:, 1:-1] - y[:-2, 1:-1])
                grads.append(g.ravel())
                luma_res.append(_immerkaer(y).ravel())
                chroma_res.append((0.5 * (_immerkaer(o1) + _immerkaer(o2))).ravel())
            dx, dy = np.diff(y, axis=1), np.diff(y, axis=0)
            sf1 += (dx**2).sum() + (dy**2).sum()
            n1 += dx.size + dy.size
            sf3 += ((y[:, 3:] - y[:, :-3]) ** 2).sum() + ((y[3:] - y[:-3]) ** 2).sum()
            n3 += max(0, tw - 3) * th + max(0, th - 3) * tw
            col_edge = (x0 + np.arange(tw - 1)) % 8 == 7
            row_edge = (y0 + np.arange(th - 1)) % 8 == 7
            edge += np.abs(dx[:, col_edge]).sum() + np.abs(dy[row_edge]).sum()
            edge_n += dx[:, col_edge].size + dy[row_edge].size
            inner += np.abs(dx[:, ~col_edge]).sum() + np.abs(dy[~row_edge]).sum()
            inner_n += dx[:, ~col_edge].size + dy[~row_edge].size
            if th > 14 and tw > 14:
                lines.append(_line_response(y).ravel())
    out = dict.fromkeys(EXTRA_NAMES, 0.0)
    if grads:
        g, r, c = np.concatenate(grads), np.concatenate(luma_res), np.concatenate(chroma_res)
        bins = np.minimum(np.floor(g * 2), 1023)
        counts = np.bincount(bins.astype(int), minlength=1024)
        median_bin = int(np.searchsorted(np.cumsum(counts), 0.5 * g.size))
        chosen = bins <= median_bin
        k = np.sqrt(np.pi / 2) / 6
        out["noise_sigma"], out["chroma_noise_sigma"] = k * r[chosen].mean(), k * c[chosen].mean()
    noise = out["noise_sigma"]
    e1, e3 = sf1 / max(n1, 1) - 2 * noise**2, sf3 / max(n3, 1) - 2 * noise**2
    if n1 and n3 and e1 > 1e-3 and e3 > 1e-3:
        out["blur_exponent"] = float(np.clip(np.log(e3 / e1) / np.log(3), 0, 2))
    if edge_n and inner_n and inner:
        out["blockiness"] = (edge / edge_n) / (inner / inner_n) - 1
    if lines:
        out["line_fraction"] = float((np.concatenate(lines) > max(40.0, 3 * noise)).mean())

    rgb = working_image(image)
    o1 = (rgb[..., 0] - rgb[..., 1]) / np.sqrt(2)
    o2 = (rgb[..., 0] + rgb[..., 1] - 2 * rgb[..., 2]) / np.sqrt(6)
    m1, m2 = o1.mean(), o2.mean()
    out.update(cast_chroma=np.hypot(m1, m2), cast_red_green=m1, cast_yellow_blue=m2,
               colorfulness=np.hypot(o1, o2).mean())
    b1 = o1.reshape(16, 16, 16, 16).mean(axis=(1, 3)) - m1
    b2 = o2.reshape(16, 16, 16, 16).mean(axis=(1, 3)) - m2
    out["chroma_unevenness"] = np.sqrt((b1**2 + b2**2).mean())
    y = np.sort((rgb @ np.array([0.299, 0.587, 0.114])).ravel())
    black, white = y[int(np.ceil(0.01 * y.size)) - 1], y[int(np.ceil(0.99 * y.size)) - 1]
    out.update(black_point=black, white_point=white, dynamic_range=white - black)
    return {k: float(out[k]) for k in EXTRA_NAMES}


def line_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised (length + 2)^2 kernel averaging ``length`` bilinear samples, 1 px apart, along
    ``angle`` (radians) through its centre: the scratch detector's line mean."""
    size = length + 2
    kernel = np.zeros((size, size), np.float64)
    c = size // 2
    for t in np.arange(length) - (length - 1) / 2:
        x, y = c + t * np.cos(angle), c + t * np.sin(angle)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        kernel[y0:y0 + 2, x0:x0 + 2] += np.outer([1 - fy, fy], [1 - fx, fx])
    return (kernel / kernel.sum()).astype(np.float32)


def line_responses_opencv(gray: np.ndarray, length: int, offset: int, angles: int):
    """(dark, light), each angles x H x W: per direction k * pi / angles, the line mean (OpenCV
    filter2D, edges replicated) against the same mean ``offset`` px to each side (rounded half to
    even, as Python's round): dark = min(sides) - centre, light = centre - max(sides)."""
    import cv2

    h, w = gray.shape
    padded = cv2.copyMakeBorder(gray, offset, offset, offset, offset, cv2.BORDER_REPLICATE)
    dark, light = np.empty((2, angles, h, w), np.float32)
    for k in range(angles):
        angle = k * np.pi / angles
        mean = cv2.filter2D(padded, -1, line_kernel(length, angle), borderType=cv2.BORDER_REPLICATE)
        nx, ny = int(round(-np.sin(angle) * offset)), int(round(np.cos(angle) * offset))
        centre = mean[offset:offset + h, offset:offset + w]
        a = mean[offset + ny:offset + ny + h, offset + nx:offset + nx + w]
        b = mean[offset - ny:offset - ny + h, offset - nx:offset - nx + w]
        dark[k], light[k] = np.minimum(a, b) - centre, centre - np.maximum(a, b)
    return dark, light
