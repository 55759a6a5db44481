"""The routing commands (issue 16), for the CLI to wire; each is one re-runnable step.

- ``train_outcomes(out, ...)`` -> ``artrestore routing outcomes``: every path of a ``HybridRestorer``
  on the TRAIN split (plus training-only extra images) damaged by the broad training family
  (``training.routing_outcomes``), one CSV.
- ``train_decision(outcomes, out, ...)`` -> ``artrestore routing decision``: the gain forest, the
  severity classifier and the choice rule's constants fitted on those outcomes
  (``training.decision_fit``), a decision folder.
- ``artrestore routing acceptance``: the check after the U-Net (``artrestore.acceptance``) fitted on
  outcome CSVs that carry the U-Net's change features (``training.acceptance_fit``), a folder.
- ``evaluate_routing(out, ...)`` -> ``artrestore routing report``: the outcomes of the TEST split
  on the broad ("seen") and the check ("unseen") family, the decision replayed on them
  (``training.routing_report``), a few images re-run through ``restore(strategy="auto")`` to hold
  the replay to the real thing, and ``routing_report.json`` + ``routing_report.md``.

This is the CLI's ``artrestore routing {outcomes,decision,acceptance,report}`` (it makes a restorer, and brings
the check family and training code together, which neither may do for the other). docs/routing.md
gives the sequence to re-run when a path changes.
"""
from __future__ import annotations

import json
import logging
import os
import pathlib
import platform
import time

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["train_outcomes", "train_decision", "evaluate_routing", "outcomes_arguments", "decision_arguments",
           "report_arguments", "run_outcomes", "run_decision", "run_report", "HELP", "ARGUMENTS", "RUN", "register"]


def _restorer(decision: str = "learned", decision_path=None, **kwargs):
    from artrestore.restorer import HybridRestorer

    return HybridRestorer(decision=decision, decision_path=decision_path, **kwargs)


def train_outcomes(out, *, clean_dir=None, extra_dir=None, seeds: int = 2, max_side: int = 384, split_seed: int = 0,
                   limit: int | None = None, resume: bool = False, progress: bool = True):
    """Measure the training outcomes into ``out`` (CSV); returns (path, errors)."""
    from artrestore.training.routing_outcomes import DEFAULT_CLEAN, collect_outcomes

    # A path's outcome depends on the decision only through the U-Net's hold (its severity
    # probabilities): the bundled decision gives the hold users get.
    return collect_outcomes(out, _restorer(), clean_dir=clean_dir or DEFAULT_CLEAN, split="train", family="broad",
                            extra_dir=extra_dir, seeds=tuple(range(seeds)), max_side=max_side,
                            split_seed=split_seed, limit=limit, resume=resume, progress=progress)


def train_decision(outcomes, out, *, seed: int = 0, trees: int | None = None, gpu_speedup: float = 60.0) -> pathlib.Path:
    """Fit the decision on outcome CSV(s) of the training family into the folder ``out`` (``trees``:
    None = ``fit_decision``'s default)."""
    from artrestore.training.decision_fit import fit_decision

    extra = {} if trees is None else {"n_estimators": trees}
    return fit_decision(outcomes, out, seed=seed, gpu_speedup=gpu_speedup, **extra)


def _check_family(clean, severity, seed):
    from artrestore.check_family import check_damage

    return check_damage(clean, severity, seed)[0]


def _verify(rows, decision_path, n: int, clean_dir, max_side: int, damage, acceptance=None,
            acceptance_path=None) -> dict:
    """Re-run the first ``n`` rows through ``restore(strategy='auto')``: same path as the replay?
    ``acceptance``: the check after the U-Net already loaded from ``acceptance_path`` (or None)."""
    from artrestore.decision import LearnedDecision
    from artrestore.training.routing_outcomes import CLEAN, source_images
    from artrestore.training.routing_report import check_unet, replay

    if n <= 0:
        return {"checked": 0, "agree": 0}
    restorer = _restorer("learned", decision_path, acceptance_path=acceptance_path)
    expected, _ = check_unet(rows[:n], replay(rows[:n], LearnedDecision.load(decision_path)), acceptance)
    images = dict(source_images(clean_dir, "test", max_side=max_side)[0])
    agree = checked = 0
    for r, want in zip(rows[:n], expected):
        clean = images.get(r["source"])
        if clean is None:
            continue
        damaged = clean if r["severity"] == CLEAN else damage(clean, r["severity"], r["seed"])
        agree += restorer.restore(damaged, "auto")[1]["method"] == want
        checked += 1
    return {"checked": checked, "agree": agree}


def _served_rows(rows, csv_path: pathlib.Path, views: int, reuse: bool, decision_path, clean_dir, max_side: int,
                 damage) -> list[dict]:
    """``rows`` with the U-Net's columns as the served profile gets them: averaged over ``views``
    views (measured again, or with ``reuse`` read from ``csv_path``); ``rows`` itself for one view."""
    from artrestore.training.routing_outcomes import read_outcomes, remeasure_path, source_images, write_outcomes

    if views == 1:
        return rows
    if reuse and csv_path.is_file():
        return read_outcomes(csv_path)
    images = source_images(clean_dir, "test", max_side=max_side)[0]
    write_outcomes(csv_path, remeasure_path(rows, images, damage, _restorer("learned", decision_path, dl_views=views)))
    return read_outcomes(csv_path)


def evaluate_routing(out, *, decision_path=None, clean_dir=None, max_side: int = 384, seeds: int = 1,
                     reuse: bool = False, verify: int = 4, router_path=None, limit: int | None = None,
                     progress: bool = True, acceptance_path=None, accelerated_views: int | None = None) -> dict:
    """Measure (or with ``reuse`` read) the test outcomes of both families, replay the decision and
    the check after the U-Net (``acceptance_path``: its folder, default bundled), write
    ``routing_report.json`` and ``routing_report.md`` into ``out``; returns the report. The
    ``accelerated`` profile's U-Net is averaged over ``accelerated_views`` views (None: what a
    served deployment does, ``dl.ensemble.DEFAULT_VIEWS``), measured again on the same images."""
    from artrestore.acceptance import load_acceptance
    from artrestore.decision import LearnedDecision
    from artrestore.dl.ensemble import DEFAULT_VIEWS, check_views
    from artrestore.training.routing_outcomes import DEFAULT_CLEAN, broad_family, collect_outcomes, read_outcomes
    from artrestore.training.routing_report import family_report, markdown, targets

    views = check_views(DEFAULT_VIEWS["accelerated"] if accelerated_views is None else accelerated_views)

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean_dir = clean_dir or DEFAULT_CLEAN
    decision = LearnedDecision.load(decision_path)
    acceptance = load_acceptance(acceptance_path)
    damages = {"check": _check_family, "broad": broad_family}
    families, errors, restorer = {}, [], None
    for family, damage in damages.items():
        csv_path = out / f"outcomes_test_{family}.csv"
        if not (reuse and csv_path.is_file()):
            restorer = restorer or _restorer("learned", decision_path)
            _, errs = collect_outcomes(csv_path, restorer, clean_dir=clean_dir, split="test", family=family,
                                       damage=damage, seeds=tuple(range(seeds)), max_side=max_side, limit=limit,
                                       progress=progress)
            errors += errs
        rows = read_outcomes(csv_path)
        served = _served_rows(rows, out / f"outcomes_test_{family}_x{views}.csv", views, reuse, decision_path,
                              clean_dir, max_side, damage)
        families[family] = {profile: family_report(profile_rows, decision, router_path, profile, acceptance)
                            for profile, profile_rows in (("local", rows), ("accelerated", served))}
        families[family]["local"]["targets"] = targets(families[family]["local"])
        families[family]["verify_auto_through_restore"] = _verify(rows, decision_path, verify, clean_dir, max_side,
                                                                  damage, acceptance, acceptance_path)
    probe = np.zeros(len(decision.metadata["feature_names"]), np.float32)
    start = time.perf_counter()
    for _ in range(200):
        decision.decide(probe, 512 * 512)
    report = {
        "decision": {"folder": str(decision_path or "bundled"), "paths": list(decision.paths),
                     "margin_db": decision.margins, "cost_db_per_s": decision.costs,
                     "trained_on": decision.metadata.get("data")},
        "acceptance": None if acceptance is None else {"folder": str(acceptance_path or "bundled"),
                                                       "margin_db": acceptance.margin_db},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "max_side": max_side, "seeds": list(range(seeds)), "accelerated_views": views,
        "decide_us_per_image": (time.perf_counter() - start) / 200 * 1e6, "errors": errors, "families": families,
        "targets_unseen_local": families["check"]["local"]["targets"],
    }
    (out / "routing_report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "routing_report.md").write_text(markdown(report))
    return report


# --- argparse pieces, so each CLI step is `p = steps.add_parser(NAME, help=HELP[NAME]); ARGUMENTS[NAME](p);
# p.set_defaults(handler=RUN[NAME])` (cli/train/outcomes.py, cli/train/decision.py, an evaluate step).
def outcomes_arguments(p) -> None:
    p.add_argument("--out", required=True, help="outcome CSV to write")
    p.add_argument("--clean", default=None, help="clean source images (default $ARTRESTORE_DATA/clean)")
    p.add_argument("--extra", default=None, help="training-only clean images (all used)")
    p.add_argument("--seeds", type=int, default=2, help="damage draws per image and severity (shipped: 2)")
    p.add_argument("--max-side", type=int, default=384)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="first N sources only (smoke runs)")
    p.add_argument("--resume", action="store_true", help="keep rows already in --out")


def decision_arguments(p) -> None:
    p.add_argument("--outcomes", nargs="+", required=True, help="outcome CSV(s) of the training family")
    p.add_argument("--out", required=True, help="decision folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trees", type=int, default=None, help="trees per forest (default: fit_decision's, 200)")
    p.add_argument("--gpu-speedup", type=float, default=60.0)


def report_arguments(p) -> None:
    p.add_argument("--out", default="benchmarks/results/routing")
    p.add_argument("--decision", default=None, help="decision folder (default: bundled)")
    p.add_argument("--clean", default=None, help="clean source images (default $ARTRESTORE_DATA/clean)")
    p.add_argument("--max-side", type=int, default=384)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="reuse outcome CSVs already in --out")
    p.add_argument("--verify", type=int, default=4, help="images per family re-run through restore(auto)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--acceptance", default=None, help="folder of the check after the U-Net (default: bundled)")
    p.add_argument("--accelerated-views", type=int, default=None,
                   help="views the served U-Net is averaged over in the accelerated profile (default: the deployment's)")


def acceptance_arguments(p) -> None:
    p.add_argument("--outcomes", nargs="+", required=True, help="outcome CSV(s) of the training family")
    p.add_argument("--out", required=True, help="acceptance folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decision", default=None, help="decision folder whose routing it checks (default: bundled)")


def run_outcomes(args) -> int:
    path, errors = train_outcomes(args.out, clean_dir=args.clean, extra_dir=args.extra, seeds=args.seeds,
                                  max_side=args.max_side, split_seed=args.split_seed, limit=args.limit,
                                  resume=args.resume)
    print(f"wrote {path}" + (f"; {len(errors)} failures, first: {errors[:3]}" if errors else ""))
    return 1 if errors else 0


def run_decision(args) -> int:
    from artrestore.decision import LearnedDecision

    folder = train_decision(args.outcomes, args.out, seed=args.seed, trees=args.trees, gpu_speedup=args.gpu_speedup)
    meta = LearnedDecision.load(folder).metadata
    print(f"wrote {folder}: margin {meta['margin_db']} dB, cost dB/s {meta['cost_db_per_s']}, out-of-fold "
          f"severity accuracy {meta['cross_validation']['severity_accuracy']:.3f}, "
          f"{json.dumps(meta['calibration']['out_of_fold'])}")
    return 0


def run_report(args) -> int:
    report = evaluate_routing(args.out, decision_path=args.decision, clean_dir=args.clean, max_side=args.max_side,
                              seeds=args.seeds, reuse=args.reuse, verify=args.verify, limit=args.limit,
                              acceptance_path=args.acceptance, accelerated_views=args.accelerated_views)
    print(json.dumps({k: v["met"] for k, v in report["targets_unseen_local"].items()}))
    print(f"wrote {pathlib.Path(args.out) / 'routing_report.md'}")
    return 0


def run_acceptance(args) -> int:
    from artrestore.acceptance import Acceptance
    from artrestore.training.acceptance_fit import fit_acceptance

    folder = fit_acceptance(args.outcomes, args.out, seed=args.seed, decision_path=args.decision)
    meta = Acceptance.load(folder).metadata
    print(f"wrote {folder}: margin {meta['margin_db']} dB, out of fold "
          f"{json.dumps(meta['calibration']['by_margin'][repr(meta['margin_db'])])}")
    return 0


HELP = {"outcomes": "measure every path on the training family (train split) -> outcome CSV",
        "decision": "fit the learned decision on outcome CSV(s) -> decision folder",
        "acceptance": "fit the check after the U-Net on outcome CSV(s) -> acceptance folder",
        "report": "auto vs every path vs the oracle on both damage families (test split)"}
ARGUMENTS = {"outcomes": outcomes_arguments, "decision": decision_arguments, "acceptance": acceptance_arguments,
             "report": report_arguments}
RUN = {"outcomes": run_outcomes, "decision": run_decision, "acceptance": run_acceptance, "report": run_report}


def register(sub) -> None:
    p = sub.add_parser("routing", help="the learned decision: outcomes, fitting, report on both damage families")
    steps = p.add_subparsers(dest="routing_step", required=True)
    for name in RUN:
        ARGUMENTS[name](steps.add_parser(name, help=HELP[name]))
    p.set_defaults(handler=lambda args: RUN[args.routing_step](args))
