"""Choose how much of the U-Net's change to keep (``dl.hold``), on the training family's
validation split only.

Inputs: the clean dataset folder (its ``val`` sources under ``split_sources(seed=0)``, longer side
<= 512 px), a U-Net folder. Each source is damaged ``draws`` times per severity by the broad damage
model (the first draw with the U-Net training's validation seeds, 900000 + k; the others with
950000 + k) and also kept clean; the U-Net (in process, as
users get it) restores every input once and the learned decision gives its severity probabilities.
Two families of holds are tried on the same outputs, as the restorer applies them
(``dl.hold.keep_for``): a share of the *global colour change* kept per severity class
(``COLOUR_KEEP_KEY``; every triple of ``SHARES``) and a share of the *whole change* kept per class
(``CHANGE_KEEP_KEY``; every triple of ``CHANGE_SHARES``). Output: a dict with PSNR / SSIM per level
(clean, light, moderate, severe) for the input, for one share for all classes in each family, and
``chosen``: by ``--rule keep_all`` (default, the rule run 10's hold was chosen by) the hold and
triple with the best mean PSNR over the four levels among those that lose no level against
keeping everything; by ``--rule no_harm`` the best mean PSNR over the three damaged levels among
those that keep light damage at or above the input and clean images at or above 38 dB
(``benchmarks/hold_rule_probe.py`` compares the two across image sets).

Run: ``python -m artrestore.training.unet_hold --clean ../shared/data/clean --out FILE.json
[--draws N] [--views V] [--extra-val DIR] [--write-metadata]`` (more draws: a choice less tied to 12
damaged images per level; ``--extra-val``: more sources, images the U-Net never trained on, such as
the collected crops ``scripts/pack_training_data.py --holdout-fraction`` keeps out of training;
``--views 8``: the U-Net as the self-ensemble ``dl.ensemble`` runs it, whose shares are recorded
under their own keys, ``dl.hold.shares_key``; ``--write-metadata`` records the choice in the U-Net
folder's metadata). The check family is never used here.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import pathlib

import numpy as np

from artrestore.dl.ensemble import VIEWS
from artrestore.dl.hold import CHANGE_KEEP_KEY, COLOUR_KEEP_KEY, hold_change, hold_colour, keep_for, shares_key
from artrestore.training.unet_broad_data import (
    CHOOSING_FAMILY_NAMES,
    DAMAGE_FAMILIES,
    VAL_SEED0,  # noqa: F401  (re-exported)
    family_image,
)
from artrestore.training.unet_broad_data import val_damage_seed as damage_seed

log = logging.getLogger(__name__)

SHARES = (1.0, 0.9, 0.75, 0.6, 0.5, 0.25, 0.0)
CHANGE_SHARES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.0)
CLASSES = ("light", "moderate", "severe")
LEVELS = ("clean", *CLASSES)
HOLDS = {COLOUR_KEEP_KEY: (hold_colour, SHARES), CHANGE_KEEP_KEY: (hold_change, CHANGE_SHARES)}
MAX_SIDE = 512
PSNR_CAP = 100.0  # dB: an unchanged clean input is infinitely close; capped so means stay finite
CLEAN_FLOOR_DB = 38.0  # the no_harm rule's floor for clean images: the fast chain's do-no-harm level
FAMILIES = (*DAMAGE_FAMILIES, *CHOOSING_FAMILY_NAMES)  # a hold may be chosen on these (never the check family)


def _outcomes(clean_dir, model_dir, draws: int = 1, views: int = 1, extra_val=None, family: str = "broad"):
    """Per val source and level: (clean, input, U-Net output, severity probabilities of the decision),
    source by source (clean first, then ``draws`` x light / moderate / severe), damaged by ``family``
    (``FAMILIES``: the hold is chosen on ``broad`` and, with ``--family``, on the proxy family too)."""
    from artrestore.analysis import routing_vector
    from artrestore.decision import load_decision
    from artrestore.dl.backends import make_backend
    from artrestore.dl.ensemble import SelfEnsemble
    from artrestore.training.damage_ranges import SEVERITIES
    from artrestore.training.routing_outcomes import source_images

    backend = SelfEnsemble(make_backend("local", model_dir=model_dir), views)
    decision = load_decision("learned")  # the bundled one, as the restorer uses it
    out = []
    # Unreadable files are logged and skipped; ``extra_val``: held-out sources added to the split's.
    sources, _ = source_images(clean_dir, "val", max_side=MAX_SIDE, extra_dir=extra_val)
    for i, (_, clean) in enumerate(sources):
        inputs = [("clean", clean)]
        for d in range(draws):
            for k, severity in enumerate(SEVERITIES):
                inputs.append((severity, family_image(clean, severity, damage_seed(i, k, d, draws), family)))
        for level, image in inputs:
            probability = dict(zip(decision.classes, map(float, decision.predict_severity_proba(routing_vector(image))[0])))
            out.append((level, clean, image, backend.restore(image), probability))
        log.info("source %d done", i + 1)
    return out


def _scores(outcomes, hold: str, keep_by_class: dict, with_ssim: bool = True) -> dict:
    """Mean PSNR / SSIM per level with ``hold`` applied at the share ``keep_for`` gives each image."""
    from artrestore.metrics import psnr, ssim

    apply = HOLDS[hold][0]
    rows: dict = {level: [] for level in LEVELS}
    for level, clean, image, restored, probability in outcomes:
        held = apply(image, restored, keep_for(probability, keep_by_class))
        rows[level].append((min(psnr(clean, held), PSNR_CAP), ssim(clean, held) if with_ssim else np.nan))
    return {level: {"psnr": float(np.mean([p for p, _ in v])), **({"ssim": float(np.mean([s for _, s in v]))}
                                                                   if with_ssim else {})}
            for level, v in rows.items()}


RULES = {
    "keep_all": "one hold (global colour change or whole change), a share kept per severity class of the "
                "decision (weighted by its probabilities): best mean PSNR over clean/light/moderate/severe "
                "among the triples that lose no level against keeping everything",
    "no_harm": "one hold (global colour change or whole change), a share kept per severity class of the "
               "decision (weighted by its probabilities): best mean PSNR over light/moderate/severe among "
               f"the triples that keep light damage at or above the input and clean images at or above "
               f"{CLEAN_FLOOR_DB:g} dB",
}


def rule_levels(rule: str) -> tuple:
    """The levels ``rule``'s mean is taken over (read at call time, as the floors read ``LEVELS``)."""
    return LEVELS if rule == "keep_all" else CLASSES


def _admissible(rule: str, scores: dict, everything: dict, inputs: dict) -> bool:
    """Whether a hold's ``scores`` ({level: {"psnr": dB}}) meet ``rule``'s floor; ``everything``:
    {level: dB} of the whole change, ``inputs``: {level: {"psnr": dB}} of the untouched input."""
    if rule == "keep_all":  # loses no level against keeping the network's output as it is
        return all(scores[level]["psnr"] >= everything[level] for level in LEVELS)
    return scores["light"]["psnr"] >= inputs["light"]["psnr"] and scores["clean"]["psnr"] >= CLEAN_FLOOR_DB


def _family_terms(outcomes) -> tuple[dict, dict, dict]:
    """(input scores per level, the one-share-for-all scores of each hold, the whole change per level)."""
    from artrestore.metrics import psnr, ssim

    inputs = {level: {"psnr": float(np.mean([min(psnr(c, i), PSNR_CAP) for lv, c, i, _, _ in outcomes if lv == level])),
                      "ssim": float(np.mean([ssim(c, i) for lv, c, i, _, _ in outcomes if lv == level]))}
              for level in LEVELS}
    uniform = {hold: {str(s): _scores(outcomes, hold, dict.fromkeys(CLASSES, s)) for s in shares}
               for hold, (_, shares) in HOLDS.items()}
    everything = {level: v["psnr"] for level, v in uniform[CHANGE_KEEP_KEY]["1.0"].items()}  # the output as it is
    return inputs, uniform, everything


def choose(clean_dir, model_dir=None, draws: int = 1, views: int = 1, extra_val=None, rule: str = "keep_all",
           families=("broad",)) -> dict:
    """The hold ``rule`` chooses; with several ``families`` a triple must meet the rule's floor on
    every family, and its mean is taken over every family's levels."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
    families = tuple(dict.fromkeys(families))
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown or not families:
        raise ValueError(f"families must be a non-empty subset of {FAMILIES}; unknown: {unknown}")
    outcomes = {f: _outcomes(clean_dir, model_dir, draws, views, extra_val, f) for f in families}
    terms = {f: _family_terms(outcomes[f]) for f in families}
    scored = rule_levels(rule)

    def mean_of(per_family: dict) -> float:
        return float(np.mean([per_family[f][level]["psnr"] for f in families for level in scored]))

    # keep_all starts from the whole change (always admissible); no_harm from none of it (always
    # admissible: the input itself), so each rule's fallback is the one its floor allows.
    start = 1.0 if rule == "keep_all" else 0.0
    best = (CHANGE_KEEP_KEY, dict.fromkeys(CLASSES, start))
    best_mean = mean_of({f: terms[f][1][CHANGE_KEEP_KEY][str(start)] for f in families})
    for hold, (_, shares) in HOLDS.items():
        for triple in itertools.product(shares, repeat=len(CLASSES)):
            keep = dict(zip(CLASSES, triple))
            scores = {f: _scores(outcomes[f], hold, keep, with_ssim=False) for f in families}  # SSIM: reported rows only
            if not all(_admissible(rule, scores[f], terms[f][2], terms[f][0]) for f in families):
                continue
            mean = mean_of(scores)
            if mean > best_mean + 1e-9:
                best, best_mean = (hold, keep), mean
    first = families[0]
    report = {"sources": sum(level == "clean" for level, *_ in outcomes[first]), "draws": draws, "views": views,
              "extra_val": None if extra_val is None else str(extra_val),
              "shares": {h: list(s) for h, (_, s) in HOLDS.items()},
              "input": terms[first][0], "uniform": terms[first][1], "chosen": {"hold": best[0], "shares": best[1]},
              "chosen_scores": _scores(outcomes[first], *best), "rule": RULES[rule], "rule_name": rule,
              "families": list(families)}
    if len(families) > 1:
        report["per_family"] = {f: {"input": terms[f][0], "uniform": terms[f][1],
                                    "chosen_scores": _scores(outcomes[f], *best)} for f in families}
    return report


def record_choice(model_dir, report: dict, report_name: str) -> pathlib.Path:
    """Write the chosen hold's shares (the other hold keeps everything) and how they were chosen
    into the U-Net folder's metadata, in the layout ``dl.weights.save_weights`` writes."""
    from artrestore.dl.contract import BUNDLED_UNET

    path = pathlib.Path(model_dir or BUNDLED_UNET) / "model_metadata.json"
    metadata = json.loads(path.read_text())
    views = report.get("views", 1)
    for hold in HOLDS:
        metadata.pop(shares_key(hold, views), None)
    metadata[shares_key(report["chosen"]["hold"], views)] = report["chosen"]["shares"]
    metadata[shares_key("hold_choice", views)] = {"split": "val (seed 0)", "sources": report["sources"],
                               "families": report.get("families", ["broad"]),
                               "draws": report.get("draws", 1), "rule": report["rule"], "report": report_name}
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", required=True, help="the clean dataset folder (its val split is used)")
    parser.add_argument("--unet", default=None, help="U-Net folder (default: the bundled one)")
    parser.add_argument("--out", required=True, help="JSON report")
    parser.add_argument("--draws", type=int, default=1, help="damaged versions per source and severity")
    parser.add_argument("--views", type=int, default=1, choices=VIEWS,
                        help="dihedral views the U-Net's output is averaged over (dl.ensemble)")
    parser.add_argument("--extra-val", default=None,
                        help="more validation sources: a folder of images the U-Net never trained on "
                             "(scripts/pack_training_data.py --holdout-fraction writes val_extra/)")
    parser.add_argument("--rule", default="keep_all", choices=sorted(RULES),
                        help="keep_all: lose no level against the whole change (the rule run 10's hold was "
                             f"chosen by); no_harm: light damage at or above the input, clean >= {CLEAN_FLOOR_DB:g} dB")
    parser.add_argument("--family", action="append", choices=FAMILIES, default=None,
                        help="damage family to choose on (repeat for several: the floor must hold on each; "
                             "default broad); proxy = artrestore.proxy_family, for choosing only")
    parser.add_argument("--write-metadata", action="store_true", help="record the choice in the U-Net's metadata")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    report = choose(args.clean, args.unet, args.draws, args.views, args.extra_val, args.rule,
                    tuple(args.family or ("broad",)))
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    if args.write_metadata:
        record_choice(args.unet, report, pathlib.Path(args.out).name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
