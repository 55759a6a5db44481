"""Which rule should choose the U-Net's hold? Rules chosen on one image set, scored on another.

The hold keeps a share of the U-Net's change per severity class, weighted per image by the
decision's severity probabilities (``dl.hold``). ``training.unet_hold`` picks the triple with the
best mean PSNR over clean / light / moderate / severe among those that lose no level against
keeping everything ("keep_all"). Because a moderate image the decision thinks half light takes
half the light share, that floor can force a large light share onto light images a network harms.
This probe compares that rule with a do-no-harm rule on the same outputs:

- ``keep_all``: the shipped rule (above);
- ``no_harm``: the best mean PSNR over the three damaged levels among triples that keep light
  damage at or above the input and clean images at or above 38 dB (the chain's do-no-harm level).

Inputs: the clean dataset (its ``val`` sources; never the check family), U-Net folders, and
``--extra`` held-out crops (``.devdata/pack*/val_extra``; no compared network trained on them).
Each rule chooses on one set and is scored on both (val -> extra, extra -> val, and each on its
own), so a rule that only fits its own images shows. The held-out change is exactly linear in the share
(``hold_change``: before + keep x (after - before)), so each image's squared error is a quadratic in
its share and every triple is scored from three sums per image (rounding to uint8 ignored: at most
0.1 dB on clean images above 40 dB). Output: JSON (the rows and each image's terms, which
``--reuse`` reads back) and a table on stdout.

    python benchmarks/hold_rule_probe.py --clean ../shared/data/clean --extra DIR --unet bundled \\
        --unet .devdata/eval/soup67/model --out benchmarks/results/unet_runs/hold_rule_probe.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from artrestore.dl.hold import keep_for  # noqa: E402
from artrestore.training import unet_hold  # noqa: E402

CLASSES = unet_hold.CLASSES
LEVELS = unet_hold.LEVELS
SHARES = unet_hold.CHANGE_SHARES
CLEAN_FLOOR_DB = unet_hold.CLEAN_FLOOR_DB
CAP = unet_hold.PSNR_CAP


def image_terms(outcomes) -> list[dict]:
    """Per image: its level, the decision's severity probabilities and the quadratic
    MSE(keep) = a + 2 b keep + c keep^2 of the held output against the clean image."""
    terms = []
    for level, clean, image, restored, probability in outcomes:
        error = image.astype(np.float64) - clean
        change = restored.astype(np.float64) - image
        terms.append({"level": level, "probability": probability, "a": float(np.mean(error ** 2)),
                      "b": float(np.mean(error * change)), "c": float(np.mean(change ** 2))})
    return terms


def level_psnr(terms: list[dict], shares: dict) -> dict:
    """Mean PSNR per level with the change kept at ``shares`` (class -> share) per image."""
    out: dict = {level: [] for level in LEVELS}
    for t in terms:
        k = keep_for(t["probability"], shares)
        mse = max(t["a"] + 2 * t["b"] * k + t["c"] * k * k, 1e-10)
        out[t["level"]].append(min(10 * np.log10(255.0 ** 2 / mse), CAP))
    return {level: float(np.mean(v)) for level, v in out.items() if v}


def choose(terms: list[dict], rule: str) -> dict:
    """The triple ``rule`` picks (``training.unet_hold``'s floors and means, on the closed form)."""
    def as_scores(psnr_by_level):
        return {level: {"psnr": value} for level, value in psnr_by_level.items()}

    everything = level_psnr(terms, dict.fromkeys(CLASSES, 1.0))
    inputs = as_scores(level_psnr(terms, dict.fromkeys(CLASSES, 0.0)))
    best, best_score = dict.fromkeys(CLASSES, 1.0 if rule == "keep_all" else 0.0), -np.inf
    for triple in itertools.product(SHARES, repeat=len(CLASSES)):
        shares = dict(zip(CLASSES, triple))
        scores = level_psnr(terms, shares)
        if not unet_hold._admissible(rule, as_scores(scores), everything, inputs):
            continue
        score = np.mean([scores[level] for level in unet_hold.rule_levels(rule)])
        if score > best_score + 1e-9:
            best, best_score = shares, score
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True)
    parser.add_argument("--extra", required=True, help="held-out crops (the second image set)")
    parser.add_argument("--unet", action="append", required=True, help="U-Net folder or 'bundled' (repeatable)")
    parser.add_argument("--draws", type=int, default=4, help="damaged versions per validation source")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--reuse", type=pathlib.Path, help="a report of this probe: its per-image terms, not re-measured")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import tempfile

    report = {"clean_floor_db": CLEAN_FLOOR_DB, "models": {}}
    for name in args.unet:
        model = None if name == "bundled" else name
        if args.reuse:  # the per-image terms an earlier run of this probe saved
            sets = json.loads(args.reuse.read_text())["models"][name]["terms"]
        else:
            sets = {"val": image_terms(unet_hold._outcomes(args.clean, model, args.draws))}
            with tempfile.TemporaryDirectory() as empty:  # the held-out crops alone, one version each
                sets["extra"] = image_terms(unet_hold._outcomes(empty, model, 1, 1, args.extra))
        rows = {}
        for rule in ("keep_all", "no_harm"):
            for chosen_on in sets:
                shares = choose(sets[chosen_on], rule)
                for scored_on in sets:
                    rows[f"{rule}, chosen on {chosen_on}, scored on {scored_on}"] = {
                        "shares": shares, "psnr": level_psnr(sets[scored_on], shares)}
        for set_name, terms in sets.items():
            rows[f"input on {set_name}"] = {"psnr": level_psnr(terms, dict.fromkeys(CLASSES, 0.0))}
            rows[f"whole change on {set_name}"] = {"psnr": level_psnr(terms, dict.fromkeys(CLASSES, 1.0))}
        report["models"][name] = {"rows": rows, "terms": sets}
        for label, row in rows.items():
            print(f"{name} | {label} | {row.get('shares', '')} | "
                  + " / ".join(f"{row['psnr'][lv]:.2f}" for lv in LEVELS))
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
