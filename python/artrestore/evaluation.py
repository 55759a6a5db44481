"""Evaluation reports and the demo job.

``evaluate(data, out)``: on the paired split of a dataset built by ``artrestore train data``, run
every strategy (classical, ml_guided, dl, auto) and write ``report.md`` (per severity: PSNR dB,
SSIM, median ms per image; method distribution of auto), ``grid.png`` (damaged / each strategy /
ground truth) and ``psnr_vs_time.png``. ``demo(out)`` restores the bundled sample images with the
embedded defaults and writes the same report for them. Figures are drawn with OpenCV alone.
"""
from __future__ import annotations

import pathlib
import statistics
import time

import cv2
import numpy as np

from artrestore import metrics
from artrestore._resources import SAMPLES
from artrestore.imageio import read_image, write_image

COLOURS = {"input": (128, 128, 128), "classical": (0, 114, 178), "ml_guided": (0, 158, 115),
           "dl": (213, 94, 0), "auto": (204, 121, 167)}


def library_versions() -> dict:
    """Versions of the libraries a quality figure depends on, for result files. The damage
    generators' JPEG, resampling and blur are OpenCV's and NumPy's, and their draws are keyed to the
    pixels they damage: OpenCV 4.13's bicubic enlargement, different in a few pixels, redrew every
    enlarged test image between the 2026-11-30 and 2026-12-06 reports (README, "Eight damaged
    versions"). A result file that names its versions says which resampling it was made with."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version(), "numpy": np.__version__, "opencv": cv2.__version__}
    for dist in ("scikit-image", "scikit-learn", "onnxruntime"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _label(image: np.ndarray, text: str, height: int = 160) -> np.ndarray:
    scale = height / image.shape[0]
    tile = cv2.resize(image, (max(1, round(image.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
    tile = np.ascontiguousarray(tile)
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def _scatter(points: dict[str, tuple[float, float]], path: pathlib.Path) -> None:
    """PSNR (dB) against median ms per image, log-scaled time axis."""
    w, h, m = 640, 400, 60
    canvas = np.full((h, w, 3), 255, np.uint8)
    times = [max(t, 1e-3) for t, _ in points.values()]
    psnrs = [p for _, p in points.values()]
    t_lo, t_hi = np.log10(min(times)) - 0.3, np.log10(max(times)) + 0.3
    p_lo, p_hi = min(psnrs) - 1, max(psnrs) + 1
    cv2.rectangle(canvas, (m, m // 2), (w - m // 2, h - m), (0, 0, 0), 1)
    cv2.putText(canvas, "median ms per image (log)", (w // 2 - 90, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    cv2.putText(canvas, "PSNR dB", (5, m // 2 - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    for frac in (0, 0.5, 1):
        t = 10 ** (t_lo + frac * (t_hi - t_lo))
        x = int(m + frac * (w - 1.5 * m))
        cv2.putText(canvas, f"{t:.3g}", (x - 15, h - m + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        p = p_lo + frac * (p_hi - p_lo)
        y = int(h - m - frac * (h - 1.5 * m))
        cv2.putText(canvas, f"{p:.1f}", (8, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for name, (t, p) in points.items():
        x = int(m + (np.log10(max(t, 1e-3)) - t_lo) / (t_hi - t_lo) * (w - 1.5 * m))
        y = int(h - m - (p - p_lo) / (p_hi - p_lo) * (h - 1.5 * m))
        colour = COLOURS.get(name, (0, 0, 0))
        cv2.circle(canvas, (x, y), 6, colour, -1)
        cv2.putText(canvas, name, (x + 8, y - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    write_image(path, canvas, overwrite=True)


def run_strategies(pairs, restorer, strategies, progress=True):
    """Rows of (name, severity, strategy, psnr, ssim, ms, method) plus a few images for the grid."""
    from tqdm import tqdm

    rows, grid = [], []
    for name, damaged, clean, severity in tqdm(pairs, desc="evaluating", disable=not progress):
        row_images = [_label(damaged, f"damaged {metrics.psnr(damaged, clean):.1f} dB")]
        rows.append((name, severity, "input", metrics.psnr(damaged, clean), metrics.ssim(damaged, clean), 0.0, "-"))
        for strategy in strategies:
            start = time.perf_counter()
            restored, info = restorer.restore(damaged, strategy)
            ms = 1e3 * (time.perf_counter() - start)
            p, s = metrics.psnr(restored, clean), metrics.ssim(restored, clean)
            rows.append((name, severity, strategy, p, s, ms, info["method"]))
            row_images.append(_label(restored, f"{strategy}: {p:.1f} dB"))
        row_images.append(_label(clean, "ground truth"))
        if len(grid) < 6:
            grid.append(np.hstack(row_images))
    return rows, grid


def reported_strategies(use_dl: bool) -> list[str]:
    """The strategies an evaluation or demo report has a row for (the U-Net's only with ``use_dl``)."""
    return ["classical", "ml_guided", *(["dl", "cascade"] if use_dl else []), "auto"]


def write_report(rows, grid, out: pathlib.Path, title: str, strategies) -> pathlib.Path:
    out.mkdir(parents=True, exist_ok=True)
    width = max(g.shape[1] for g in grid)
    write_image(out / "grid.png", np.vstack([np.pad(g, ((0, 4), (0, width - g.shape[1]), (0, 0)), constant_values=255)
                                             for g in grid]), overwrite=True)
    severities = [s for s in ("light", "moderate", "severe") if any(r[1] == s for r in rows)]
    lines = [f"# {title}", "", f"{len({r[0] for r in rows})} images. PSNR in dB and SSIM against the ground "
             "truth; time is the median wall time per image in this process (analysis + routing + restoration).", "",
             "| strategy | " + " | ".join(f"{s} PSNR / SSIM" for s in severities) + " | all PSNR / SSIM | median ms |",
             "|---|" + "---|" * (len(severities) + 2)]
    points = {}
    for strategy in ["input", *strategies]:
        chosen = [r for r in rows if r[2] == strategy]
        cells = []
        for s in severities:
            sel = [r for r in chosen if r[1] == s]
            cells.append(f"{np.mean([r[3] for r in sel]):.2f} / {np.mean([r[4] for r in sel]):.3f}" if sel else "-")
        mean_p, mean_s = np.mean([r[3] for r in chosen]), np.mean([r[4] for r in chosen])
        ms = statistics.median(r[5] for r in chosen)
        points[strategy] = (ms, float(mean_p))
        lines.append(f"| {strategy} | " + " | ".join(cells) + f" | {mean_p:.2f} / {mean_s:.3f} | "
                     + (f"{ms:.1f} |" if strategy != "input" else "- |"))
    auto = [r for r in rows if r[2] == "auto"]
    if auto:
        counts = {m: sum(r[6] == m for r in auto) for m in ("classical", "ml_guided", "deep_learning")}
        lines += ["", "Method chosen by `auto`: " + ", ".join(f"{m} {n} ({100 * n / len(auto):.0f} %)"
                                                              for m, n in counts.items())]
        by_sev = {s: {m: sum(r[6] == m and r[1] == s for r in auto) for m in counts} for s in severities}
        lines += ["", "| true severity | " + " | ".join(counts) + " |", "|---|" + "---|" * len(counts)]
        lines += [f"| {s} | " + " | ".join(str(by_sev[s][m]) for m in counts) + " |" for s in severities]
    lines += ["", "![grid](grid.png)", "", "![PSNR against time](psnr_vs_time.png)", ""]
    _scatter({k: v for k, v in points.items() if k != "input"}, out / "psnr_vs_time.png")
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def evaluate(data, out, *, split="test", limit=None, use_dl=True, router_path=None, unet_path=None,
             progress=True) -> pathlib.Path:
    from artrestore.restorer import HybridRestorer
    from artrestore.training.datasets import load_pairs

    restorer = HybridRestorer(ml_model_path=router_path, dl_model_path=unet_path, use_dl=use_dl)
    pairs = []
    for row in load_pairs(data, split)[:limit]:
        try:
            pairs.append((row["file"], read_image(row["damaged"]), read_image(row["undamaged"]), row["severity"]))
        except (OSError, ValueError) as error:
            print(f"skipping {row['file']}: {error}")
    if not pairs:
        raise ValueError(f"no readable {split} pairs under {data}")
    strategies = reported_strategies(use_dl)
    rows, grid = run_strategies(pairs, restorer, strategies, progress)
    return write_report(rows, grid, pathlib.Path(out), f"artrestore evaluation ({split} split of {pathlib.Path(data).name})",
                        strategies)


def demo(out, *, use_dl=True) -> int:
    """The README's main job: restore the bundled samples (auto) and write a report beside them."""
    from artrestore.restorer import HybridRestorer

    out = pathlib.Path(out)
    restorer = HybridRestorer(use_dl=use_dl)
    results = restorer.batch_restore(SAMPLES / "damaged", out / "restored", overwrite=True, progress=False)
    failed = [r for r in results if r.get("error")]
    for r in results:
        print(f"{pathlib.Path(r['file']).name}: {r['status']}, {r['severity']} -> {r['method']}, {r['ms']} ms"
              + (f" (fallback: {r['fallback']})" if r.get("fallback") else "") + (f" ({r['reason']})" if r.get("reason") else "")
              + (f" {r['error']}" if r['error'] else ""))
    pairs = []
    for path in sorted((SAMPLES / "damaged").glob("*.jpg")):
        severity = path.stem.rsplit("_", 1)[-1]
        pairs.append((path.name, read_image(path), read_image(SAMPLES / "clean" / path.name), severity))
    strategies = reported_strategies(use_dl)
    rows, grid = run_strategies(pairs, restorer, strategies, progress=False)
    report = write_report(rows, grid, out, "artrestore demo: the bundled samples", strategies)
    print(f"\nrestored images in {out / 'restored'}; report in {report}\n")
    print(report.read_text())
    return 1 if failed else 0


def make_samples(paintings, out=SAMPLES, seed: int = 7) -> None:
    """Regenerate the bundled samples from ``paintings`` (``../shared/data/clean/paintings``): two
    public-domain paintings and two scikit-image photographs, short side 384 px, damaged by the
    synthesizer (file names end in their severity)."""
    from skimage import data as skdata

    from artrestore.training.datasets import fit_size
    from artrestore.training.synthesis import synthesize_damage

    paintings = pathlib.Path(paintings)
    sources = {
        "starry_night": (read_image(paintings / "starry_night.jpg"), "severe"),
        "woman_with_hat": (read_image(paintings / "woman-with-hat-matisse.jpg"), "moderate"),
        "coffee": (skdata.coffee(), "light"),
        "chelsea": (skdata.chelsea(), "severe"),
    }
    for name, (image, severity) in sources.items():
        clean = fit_size(image, 384)
        damaged, _ = synthesize_damage(clean, severity, seed)
        write_image(pathlib.Path(out) / "clean" / f"{name}_{severity}.jpg", clean, overwrite=True, jpeg_quality=95)
        write_image(pathlib.Path(out) / "damaged" / f"{name}_{severity}.jpg", damaged, overwrite=True, jpeg_quality=95)
