"""Training data for the chain's learned colour map: the damaged and clean images of every outcome
case regenerated, their input features, and the colour map a per-channel least-squares fit finds.

``regenerate(outcomes, src)`` rebuilds each case of an outcome file (source image, severity, seed,
size and damage model from its record) and returns the damaged and clean images. ``colour_target``
is the affine map ``clean_c ~ gain_c * damaged_c + offset_c`` fitted per channel by least squares,
written as the clean values it gives at two anchor levels (``ANCHORS``: 64 and 192), which keeps
the forest's targets in levels and well conditioned; ``chain.router.map_from_anchors`` turns them
back into (gains, offsets). The clean cases (severity ``none``) have the identity as their target.
"""
from __future__ import annotations

import numpy as np

from artrestore._outcomes import OUTCOME_SIDE
from artrestore.analysis import analyze_vector
from artrestore.chain.features import chain_features
from artrestore.chain.router import ANCHORS, GAIN_RANGE


def colour_target(damaged: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """[y64_r, y64_g, y64_b, y192_r, y192_g, y192_b] of the least-squares affine map damaged -> clean."""
    lo, hi = [], []
    for c in range(3):
        x = damaged[:, :, c].ravel().astype(np.float64)
        y = clean[:, :, c].ravel().astype(np.float64)
        var = x.var()
        gain = np.cov(x, y, bias=True)[0, 1] / var if var > 1e-6 else 1.0
        gain = float(np.clip(gain, *GAIN_RANGE))
        offset = y.mean() - gain * x.mean()
        lo.append(gain * ANCHORS[0] + offset)
        hi.append(gain * ANCHORS[1] + offset)
    return np.array(lo + hi)


def identity_anchors() -> np.ndarray:
    return np.array([ANCHORS[0]] * 3 + [ANCHORS[1]] * 3)


def regenerate(outcomes: dict, src) -> list[tuple[np.ndarray, np.ndarray]]:
    """(damaged, clean) of every case of an outcome file, rebuilt from its record."""
    from artrestore.imageio import read_image
    from artrestore.training.chain_outcomes import _damage_fn, train_sources
    from artrestore.training.datasets import fit_size

    record = outcomes["record"]
    paths = dict((name, path) for path, name in train_sources(src, record["split_seed"]))
    damage = _damage_fn(record["damage"])
    cache, pairs = {}, []
    for source, severity, seed in zip(outcomes["source"], outcomes["severity"], outcomes["seed"]):
        if source not in cache:
            cache = {source: fit_size(read_image(paths[str(source)]), record["size"])}
        clean = cache[source]
        damaged = clean if severity == "none" else damage(clean, str(severity), int(seed))
        pairs.append((damaged, clean))
    return pairs


def inputs_and_targets(pairs) -> tuple[np.ndarray, np.ndarray]:
    """The router's input features and the colour targets of every (damaged, clean) pair."""
    inputs = np.stack([np.concatenate([analyze_vector(d), chain_features(d)]) for d, _ in pairs]).astype(np.float64)
    targets = np.stack([colour_target(d, c) if d is not c else identity_anchors() for d, c in pairs])
    return inputs, targets


def _colour_case(job):
    path, source, severity, seed, size, damage = job
    import cv2

    from artrestore.imageio import read_image
    from artrestore.training.chain_outcomes import _damage_fn
    from artrestore.training.datasets import fit_size

    cv2.setNumThreads(1)
    clean = fit_size(read_image(path), size)
    damaged = clean if severity == "none" else _damage_fn(damage)(clean, severity, seed)
    inputs, targets = inputs_and_targets([(damaged, clean)])
    return source, severity, seed, inputs[0], targets[0]


def collect_colour(src, *, damage: str = "broad", seeds=tuple(range(10)), size: int = OUTCOME_SIDE, split_seed: int = 0,
                   workers: int = 1, progress: bool = True) -> dict:
    """Features and colour targets of many damaged copies of every train-split source (no chain
    runs, so many more cases than the outcome search affords)."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    from artrestore.training.chain_outcomes import train_sources

    sources = train_sources(src, split_seed)
    jobs = [(p, n, sev, 7919 + 1000 * k + s, size, damage) for k, (p, n) in enumerate(sources)
            for sev in ("none", "light", "moderate", "severe") for s in (seeds if sev != "none" else seeds[:1])]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        rows = list(tqdm(pool.map(_colour_case, jobs), total=len(jobs), desc="colour cases", disable=not progress))
    return {"inputs": np.stack([r[3] for r in rows]), "targets": np.stack([r[4] for r in rows]),
            "source": np.array([r[0] for r in rows]), "severity": np.array([r[1] for r in rows]),
            "seed": np.array([r[2] for r in rows]),
            "record": {"damage": damage, "size": size, "seeds": list(seeds), "split_seed": split_seed,
                       "n_sources": len(sources), "n_cases": len(rows)}}


def main(argv=None) -> None:
    import argparse

    from artrestore.training.chain_outcomes import save_outcomes

    parser = argparse.ArgumentParser(description="Features and colour targets for the chain's colour forest.")
    parser.add_argument("--src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--damage", default="broad", choices=("broad", "synthesize"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    print(save_outcomes(collect_colour(args.src, damage=args.damage, seeds=tuple(range(args.seeds)),
                                       workers=args.workers), args.out))


if __name__ == "__main__":
    main()
