"""Quality of the restoration chain per severity, with an ablation (the chain without each stage),
beside the untouched input and the old fast paths, on the test split of a damage family.

Usage:
  python benchmarks/chain_eval.py --family broad --out benchmarks/results/chain_eval_broad.json
  python benchmarks/chain_eval.py --family check --out benchmarks/results/chain_eval_check.json
  python benchmarks/chain_eval.py --family broad --markdown benchmarks/results/chain_eval_*.json

Test images: the test split of the clean sources (``data.split_sources``, seed 0, as the dataset
builder splits them), fitted to 512 px; damaged by the training family's ``broad_damage`` ("seen")
or the independent check family ("unseen", reporting only: nothing is tuned on it). Rows per
severity: PSNR (dB) and SSIM, mean over images, for ``input``, ``classical`` (the chain, fixed
setting), ``ml_guided`` (the chain, router's setting), ``classical without <stage>`` for each
stage, and the paths before the chain: ``old_classical`` (grey-world + stretch + unsharp mask,
the seed's fixed parameters) and ``old_ml_guided`` (the same with the old router's parameters).
Also the median chain ms per image and the share of images below the input, and ``images``: per
damaged image its source, draw, severity, the digest of the damaged input (sha256, 16 hex) and the
input / classical / ml_guided PSNR, so that two runs can be compared image by image. ``--draws N``: N
damaged versions of each source per severity (the first with the one-draw seed), for gains whose
standard error (reported beside each) is small enough to tell a harm from draw noise.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pathlib
import platform
import sys
import time

import cv2
import numpy as np

from artrestore import classical, metrics
from artrestore.analysis import analyze_vector
from artrestore.chain import DEFAULT_CHAIN, STAGES, ChainParams, run_chain
from artrestore.chain.denoise import estimate_noise
from artrestore.chain.features import chain_features
from artrestore.chain.router import ChainRouter
from artrestore.imageio import read_image
from artrestore.router import DEFAULT_PARAMS, Router
from artrestore.training.datasets import fit_size, list_images, split_sources
from artrestore.training.synthesis import SEVERITIES

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from report import print_and_save  # noqa: E402

DRAW_SEED_STEP = 100_000   # seed offset between damaged versions of one source (draws)
IMAGE_PATHS = ("input", "classical", "ml_guided")  # the per-image PSNRs a result file keeps


def damage_function(family: str):
    if family == "broad":
        from artrestore.training.broad_damage import broad_damage

        return lambda clean, severity, seed: broad_damage(clean, severity, seed)[0]
    if family == "check":
        from artrestore.check_family import check_damage

        return lambda clean, severity, seed: check_damage(clean, severity, seed)[0]
    if family == "synthesize":
        from artrestore.training.synthesis import synthesize_damage

        return lambda clean, severity, seed: synthesize_damage(clean, severity, seed)[0]
    if family == "proxy":  # for choosing only (artrestore.proxy_family)
        from artrestore.training.unet_broad_data import proxy_family_damage

        return proxy_family_damage
    raise ValueError(f"unknown family {family!r}")


def _active(params, stage: str, colour_map) -> bool:
    strength = {"lines": params.line_sensitivity, "denoise": params.denoise_strength,
                "colour": params.colour_strength, "sharpen": params.sharpen_strength}[stage]
    return strength > 0


def test_sources(src: pathlib.Path, split: str = "test") -> list[pathlib.Path]:
    paths = list_images(src)
    names = [str(p.relative_to(src)) for p in paths]
    assignment = split_sources(names, 0)
    return [p for p, n in zip(paths, names) if assignment[n] == split]


def evaluate(family: str, src, *, size: int = 512, seed: int = 7, split: str = "test", limit=None,
             draws: int = 1, classical_setting=DEFAULT_CHAIN) -> dict:
    """``classical_setting``: the ChainParams the ``classical`` rows run (a candidate against the shipped one)."""
    cv2.setNumThreads(1)
    damage = damage_function(family)
    chain_router, old_router = ChainRouter.load(), Router.load()
    rows = []
    for k, path in enumerate(test_sources(pathlib.Path(src), split)[:limit]):
        clean = fit_size(read_image(path), size)
        for severity, draw in itertools.product(SEVERITIES, range(draws)):
            # Draw 0 keeps the one-draw seed, so a one-draw run's images are a subset.
            damaged = damage(clean, severity, seed * 1000 + k + DRAW_SEED_STEP * draw)
            vector = analyze_vector(damaged)
            outputs = {"input": damaged}
            start = time.perf_counter()
            outputs["classical"] = run_chain(damaged, classical_setting).image
            chain_ms = 1e3 * (time.perf_counter() - start)
            noise = estimate_noise(damaged)
            inputs = np.concatenate([vector, chain_features(damaged, noise_sigma=noise)])
            params, _, colour_map = chain_router.predict(inputs)
            outputs["ml_guided"] = run_chain(damaged, params, noise_sigma=noise, colour_map=colour_map).image
            # Ablation: each path without each of its stages (a stage its setting leaves off is not listed).
            for stage in STAGES:
                skip = (stage, "inpaint") if stage == "lines" else (stage,)
                if stage != "inpaint" and _active(classical_setting, stage, None):
                    outputs[f"classical without {stage}"] = run_chain(damaged, classical_setting, skip=skip).image
                if stage != "inpaint" and _active(params, stage, colour_map):
                    outputs[f"ml_guided without {stage}"] = run_chain(damaged, params, skip=skip, noise_sigma=noise,
                                                                      colour_map=colour_map).image
            outputs["old_classical"] = classical.color_correct_sharpen(damaged, **DEFAULT_PARAMS.as_dict())
            outputs["old_ml_guided"] = classical.color_correct_sharpen(damaged, **old_router.predict(vector).as_dict())
            # The damaged input's digest: a later run shows image by image whether it drew the same damage.
            digest = hashlib.sha256(damaged.tobytes()).hexdigest()[:16]
            for name, image in outputs.items():
                rows.append({"source": (path.name, draw), "severity": severity, "path": name, "digest": digest,
                             "psnr": metrics.psnr(image, clean), "ssim": metrics.ssim(image, clean),
                             "ms": chain_ms if name == "classical" else None, "ml_params": params.as_dict()
                             if name == "ml_guided" else None})
    return summarise(rows, family, size, seed, split, draws, classical_setting)


def summarise(rows, family, size, seed, split, draws: int = 1, classical_setting=DEFAULT_CHAIN) -> dict:
    table = {}
    names = list(dict.fromkeys(r["path"] for r in rows))
    for severity in SEVERITIES:
        sev = [r for r in rows if r["severity"] == severity]
        inputs = {r["source"]: r["psnr"] for r in sev if r["path"] == "input"}
        table[severity] = {}
        for name in names:
            mine = [r for r in sev if r["path"] == name]
            if not mine:
                continue
            below = [r["psnr"] < inputs[r["source"]] - 0.05 for r in mine]
            entry = {"psnr": round(float(np.mean([r["psnr"] for r in mine])), 3),
                     "ssim": round(float(np.mean([r["ssim"] for r in mine])), 4),
                     "share_below_input": round(float(np.mean(below)), 3)}
            gains = [r["psnr"] - inputs[r["source"]] for r in mine]
            entry["gain_db"] = round(float(np.mean(gains)), 3)
            # Standard error of the mean gain over the damaged images (sources x draws).
            entry["gain_se_db"] = round(float(np.std(gains, ddof=1) / np.sqrt(len(gains))), 3) if len(gains) > 1 else None
            entry["n"] = len(mine)
            if " without " in name:  # ablation: against the full path on the same images
                full = {r["source"]: r["psnr"] for r in sev if r["path"] == name.split(" without ")[0]}
                entry["vs_full_db"] = round(float(np.mean([r["psnr"] - full[r["source"]] for r in mine])), 3)
            if name == "classical":
                entry["median_ms"] = round(float(np.median([r["ms"] for r in mine])), 2)
            table[severity][name] = entry
    # Per damaged image: its input and each full path's PSNR (dB), so runs can be compared image by image.
    images: dict = {}
    for r in rows:
        if r["path"] in IMAGE_PATHS:
            image = images.setdefault((r["source"], r["severity"]), {
                "source": r["source"][0], "draw": r["source"][1], "severity": r["severity"], "digest": r.get("digest")})
            image[r["path"]] = round(float(r["psnr"]), 3)
    return {"family": family, "split": split, "size": size, "seed": seed, "draws": draws,
            "n_images": len({r["source"][0] for r in rows}),
            "machine": f"{platform.processor() or platform.machine()}, one OpenCV thread, shared",
            "default_setting": classical_setting.as_dict(), "per_severity": table, "images": list(images.values())}


def markdown(results: list[dict]) -> str:
    """One table per family: rows are paths, columns severities, cells ``PSNR (SSIM)`` and the gain."""
    lines = []
    for result in results:
        table = result["per_severity"]
        draws = result.get("draws", 1)
        lines += [f"**{result['family']}** ({result['split']} split, {result['n_images']} images x {draws} damaged "
                  f"versions, {result['size']} px)", "",
                  "| path | " + " | ".join(table) + " |", "|---|" + "---|" * len(table)]
        for name in dict.fromkeys(n for sev in table.values() for n in sev):
            cells = []
            for severity in table:
                e = table[severity].get(name)
                if e is None:
                    cells.append("-")
                    continue
                se = f" ± {e['gain_se_db']:.2f}" if e.get("gain_se_db") is not None else ""
                gain = "" if name == "input" else f", {e['gain_db']:+.2f}{se} dB, {100 * e['share_below_input']:.0f} % below"
                if "vs_full_db" in e:
                    gain = f", {e['vs_full_db']:+.2f} dB vs all stages (n={e['n']})"
                cells.append(f"{e['psnr']:.2f} ({e['ssim']:.3f}){gain}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", required=True, choices=("broad", "check", "synthesize", "proxy"))
    parser.add_argument("--src", default=str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "clean"))
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--draws", type=int, default=1, help="damaged versions per source and severity")
    parser.add_argument("--out", default=None)
    parser.add_argument("--classical", default=None,
                        help="JSON of ChainParams fields for the classical rows (a candidate setting; default DEFAULT_CHAIN)")
    parser.add_argument("--markdown", nargs="+", default=None, help="print the tables of result JSON files and exit")
    args = parser.parse_args()
    if args.markdown:
        print(markdown([json.loads(pathlib.Path(p).read_text()) for p in args.markdown]))
        return
    setting = DEFAULT_CHAIN if args.classical is None else ChainParams(**json.loads(args.classical))
    print_and_save(evaluate(args.family, args.src, size=args.size, split=args.split, limit=args.limit,
                            draws=args.draws, classical_setting=setting), args.out)


if __name__ == "__main__":
    main()
