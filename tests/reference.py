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
