"""Outcome data for the chain's router: what every chain setting of a grid does to training images.

For each training source image (the dataset builder's train split, never validation, test or the
check family), each severity (and the clean image itself, severity ``none``: the router must learn to
leave clean images alone) and each seed, the image is damaged by a training damage model, and every
setting of ``setting_grid()`` is run; the output PSNR to the clean image is recorded.

Output (``collect`` -> ``save_outcomes``): an ``.npz`` with ``inputs`` (n, INPUT_NAMES: the 14 FFT
features + the chain features of the damaged image), ``psnr_out`` (n, n_settings, dB, capped at
``PSNR_CAP``), ``psnr_in`` (n,), ``settings`` (n_settings, PARAM_NAMES), and string arrays ``source``,
``severity``; plus a JSON record (damage model, sizes, seeds, counts).

The grid is searched stage by stage (lines, then denoising, colour and sharpening), each prefix
computed once and shared by every setting that starts with it (``run_chain`` with the other stages
skipped gives the same image as one call), about 1 s per image at 384 px.
"""
from __future__ import annotations

import itertools
import json
import logging
import pathlib
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np

from artrestore._outcomes import OUTCOME_SIDE
from artrestore.analysis import analyze_vector
from artrestore.chain.chain import ChainParams, run_chain
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.features import chain_features
from artrestore.chain.router import INPUT_NAMES, PARAM_NAMES

log = logging.getLogger(__name__)

PSNR_CAP = 60.0  # dB; identical images (inf) and near-identical ones are all "no change"
LINE_CHOICES = (0.0, 0.3, 0.7, 1.2)
DENOISE_CHOICES = ((0.0, 6.0), (0.7, 6.0), (0.7, 20.0), (1.5, 6.0), (1.5, 20.0))  # (strength, noise ceiling)
# (strength, cast tolerance, black tolerance, white tolerance); the two gentle ones (a quarter
# strength, a cast only beyond 0.3 in log gain) give the classical default a choice that touches
# light damage less; the wider fading dead zones (black lift 24 / 32 levels, white 90 levels,
# against 16 / 60) leave the tonality of hazy and low-key clean photographs alone.
COLOUR_CHOICES = ((0.0, 0.18, 16, 60), (0.25, 0.18, 16, 60), (0.5, 0.18, 16, 60), (0.5, 0.3, 16, 60),
                  (0.8, 0.18, 16, 60), (1.0, 0.08, 16, 60), (1.0, 0.18, 16, 60),
                  (0.5, 0.3, 24, 90), (0.5, 0.3, 32, 90), (0.75, 0.3, 16, 90), (0.75, 0.3, 24, 90),
                  (0.75, 0.3, 32, 90), (1.0, 0.3, 24, 90), (1.0, 0.3, 32, 90),
                  # 2026-12-07 night: wider dead zones still (casts beyond 0.45, lifts beyond 40
                  # levels, white deficits beyond 110), for a setting that leaves light damage alone.
                  (0.75, 0.45, 32, 90), (1.0, 0.45, 32, 90), (0.75, 0.3, 40, 90), (1.0, 0.3, 40, 90),
                  (0.75, 0.45, 40, 110), (1.0, 0.45, 40, 110))
SHARPEN_CHOICES = ((0.0, 1.0), (0.3, 1.0), (0.6, 1.5))  # (strength, sigma px)


def setting_grid() -> list[ChainParams]:
    """Every combination of the stage choices above, lines varying slowest (the search order)."""
    return [ChainParams(line_sensitivity=lines, denoise_strength=d, noise_ceiling=c, colour_strength=cs,
                        cast_tolerance=ct, black_tolerance=bt, white_tolerance=wt, sharpen_strength=s,
                        sharpen_sigma=sg)
            for lines, (d, c), (cs, ct, bt, wt), (s, sg) in itertools.product(
                LINE_CHOICES, DENOISE_CHOICES, COLOUR_CHOICES, SHARPEN_CHOICES)]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(min(cv2.PSNR(a, b), PSNR_CAP))


def search_settings(damaged: np.ndarray, clean: np.ndarray, grid: list[ChainParams]) -> np.ndarray:
    """Output PSNR (dB, capped) of every setting of ``grid`` on one damaged image."""
    noise = estimate_noise(damaged)
    # The stages each call skips: every one but its own (the line stage brings its inpainting).
    only = {"lines": ("denoise", "colour", "sharpen"), "denoise": ("lines", "inpaint", "colour", "sharpen"),
            "colour": ("lines", "inpaint", "denoise", "sharpen"), "sharpen": ("lines", "inpaint", "denoise", "colour")}
    cache: dict[tuple, np.ndarray] = {}

    def stage_out(key: tuple, previous: np.ndarray, params: ChainParams, stage: str) -> np.ndarray:
        if key not in cache:
            cache[key] = run_chain(previous, params, skip=only[stage], noise_sigma=noise).image
        return cache[key]

    out = np.empty(len(grid))
    for i, p in enumerate(grid):
        a = stage_out(("l", p.line_sensitivity), damaged, p, "lines")
        b = stage_out(("d", p.line_sensitivity, p.denoise_strength, p.noise_ceiling), a, p, "denoise")
        c = stage_out(("c", p.line_sensitivity, p.denoise_strength, p.noise_ceiling, p.colour_strength,
                       p.cast_tolerance, p.black_tolerance, p.white_tolerance), b, p, "colour")
        # The sharpening threshold depends on the denoising strength: not shared beyond its prefix.
        d = run_chain(c, p, skip=only["sharpen"], noise_sigma=noise).image if p.sharpen_strength > 0 else c
        out[i] = _psnr(d, clean)
    return out


def _damage_fn(name: str):
    if name == "broad":
        from artrestore.training.broad_damage import broad_damage

        return lambda clean, severity, seed: broad_damage(clean, severity, seed)[0]
    if name == "synthesize":
        from artrestore.training.synthesis import synthesize_damage

        return lambda clean, severity, seed: synthesize_damage(clean, severity, seed)[0]
    if name == "proxy":  # for choosing only (artrestore.proxy_family): never fitted on
        from artrestore.training.unet_broad_data import proxy_family_damage

        return proxy_family_damage
    raise ValueError(f"damage model must be 'broad', 'synthesize' or 'proxy', got {name!r}")


def _one(job):
    path, source, severity, seed, size, damage = job
    from artrestore.imageio import read_image
    from artrestore.training.datasets import fit_size

    cv2.setNumThreads(1)
    clean = fit_size(read_image(path), size)
    damaged = clean if severity == "none" else _damage_fn(damage)(clean, severity, seed)
    grid = setting_grid()
    inputs = np.concatenate([analyze_vector(damaged), chain_features(damaged)])
    return source, severity, seed, inputs, search_settings(damaged, clean, grid), _psnr(damaged, clean)


def train_sources(src, seed: int = 0) -> list[tuple[pathlib.Path, str]]:
    """(path, name) of the train-split sources under ``src``, split as ``build_dataset`` splits them."""
    from artrestore.training.datasets import list_images, split_sources

    src = pathlib.Path(src)
    paths = list_images(src)
    names = [str(p.relative_to(src)) for p in paths]
    split = split_sources(names, seed)
    return [(p, n) for p, n in zip(paths, names) if split[n] == "train"]


def collect(src, *, damage: str = "broad", severities=("none", "light", "moderate", "severe"), seeds=(0,),
            size: int = OUTCOME_SIDE, split_seed: int = 0, workers: int = 1, limit: int | None = None,
            progress: bool = True) -> dict:
    """Outcome arrays (see the module docstring) for the train split of ``src``."""
    from tqdm import tqdm

    sources = train_sources(src, split_seed)[:limit]
    jobs = [(p, n, sev, 1000 * k + s, size, damage) for k, (p, n) in enumerate(sources) for sev in severities
            for s in (seeds if sev != "none" else seeds[:1])]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        results = list(tqdm(pool.map(_one, jobs), total=len(jobs), desc="chain outcomes", disable=not progress))
    grid = setting_grid()
    return {
        "inputs": np.stack([r[3] for r in results]).astype(np.float64),
        "psnr_out": np.stack([r[4] for r in results]),
        "psnr_in": np.array([r[5] for r in results]),
        "settings": np.array([[getattr(p, n) for n in PARAM_NAMES] for p in grid], np.float64),
        "source": np.array([r[0] for r in results]),
        "severity": np.array([r[1] for r in results]),
        "seed": np.array([r[2] for r in results]),
        "record": {"damage": damage, "size": size, "seeds": list(seeds), "split_seed": split_seed,
                   "severities": list(severities), "n_sources": len(sources), "n_cases": len(results),
                   "input_names": list(INPUT_NAMES), "param_names": list(PARAM_NAMES), "psnr_cap": PSNR_CAP},
    }


def save_outcomes(outcomes: dict, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: v for k, v in outcomes.items() if k != "record"})
    path.with_suffix(".json").write_text(json.dumps(outcomes["record"], indent=2) + "\n")
    return path


def load_outcomes(path) -> dict:
    path = pathlib.Path(path)
    with np.load(path, allow_pickle=False) as npz:
        out = {k: npz[k] for k in npz.files}
    out["record"] = json.loads(path.with_suffix(".json").read_text())
    return out


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", required=True, help="clean image folder (the dataset builder's source)")
    parser.add_argument("--out", required=True, help="outcome .npz to write")
    parser.add_argument("--damage", default="broad", choices=("broad", "synthesize", "proxy"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--size", type=int, default=OUTCOME_SIDE)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    outcomes = collect(args.src, damage=args.damage, seeds=tuple(args.seeds), size=args.size, workers=args.workers,
                       limit=args.limit)
    print(save_outcomes(outcomes, args.out))


if __name__ == "__main__":
    main()
