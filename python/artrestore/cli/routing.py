"""The routing commands (issue 16), for the CLI to wire; each is one re-runnable step.

- ``train_outcomes(out, ...)`` -> ``artrestore routing outcomes``: every path of a ``HybridRestorer``
  on the TRAIN split (plus training-only extra images) damaged by the broad training family
  (``training.routing_outcomes``), one CSV; ``--split val``: the validation sources instead, which
  no shipped model trained on (for measuring what the paths do to unseen images).
- ``train_decision(outcomes, out, ...)`` -> ``artrestore routing decision``: the gain forest, the
  severity classifier and the choice rule's constants fitted on those outcomes
  (``training.decision_fit``), a decision folder.
- ``artrestore routing acceptance``: the check after the U-Net (``artrestore.acceptance``) fitted on
  outcome CSVs that carry the U-Net's change features (``training.acceptance_fit``), a folder.
- ``views_outcomes(outcomes, out, views)`` -> ``artrestore routing outcomes --views N --from CSV``:
  the same training rows with the U-Net's columns measured again averaging N views.
- ``evaluate_routing(out, ...)`` (``cli.routing_eval``) -> ``artrestore routing report``: the
  decision on the TEST split of both damage families.

This is the CLI's ``artrestore routing {outcomes,decision,acceptance,report}`` (it makes a restorer, and brings
the check family and training code together, which neither may do for the other). docs/routing.md
gives the sequence to re-run when a path changes.
"""
from __future__ import annotations

import json
import logging
import pathlib

from artrestore._outcomes import OUTCOME_SIDE
from artrestore.cli.routing_eval import _restorer, evaluate_routing

log = logging.getLogger(__name__)

__all__ = ["train_outcomes", "train_decision", "views_outcomes", "evaluate_routing", "outcomes_arguments",
           "decision_arguments", "report_arguments", "run_outcomes", "run_decision", "run_report", "HELP",
           "ARGUMENTS", "RUN", "register"]


def train_outcomes(out, *, clean_dir=None, extra_dir=None, seeds: int = 2, max_side: int = OUTCOME_SIDE, split_seed: int = 0,
                   limit: int | None = None, resume: bool = False, progress: bool = True, split: str = "train",
                   family: str = "broad"):
    """Measure a training family's outcomes into ``out`` (CSV); returns (path, errors). ``split``:
    ``train`` (what the decision is fitted on) or ``val`` (sources no shipped model trained on).
    ``family``: a ``TRAINING_FAMILIES`` name, or a ``CHOOSING_FAMILIES`` one (``proxy``: rows to
    choose on, never to fit); only ``broad`` adds the undamaged rows (they do not depend on the
    family, so a second family's CSV would repeat them)."""
    from artrestore.training.routing_outcomes import (
        CHOOSING_FAMILIES,
        DEFAULT_CLEAN,
        TRAINING_FAMILIES,
        collect_outcomes,
    )

    families = {**TRAINING_FAMILIES, **CHOOSING_FAMILIES}
    if family not in families:
        raise ValueError(f"family {family!r}: expected one of {sorted(families)}")

    if split != "train" and extra_dir is not None:
        raise ValueError("extra images are training images: give them with the train split only")
    # A path's outcome depends on the decision only through the U-Net's hold (its severity
    # probabilities): the bundled decision gives the hold users get.
    return collect_outcomes(out, _restorer(), clean_dir=clean_dir or DEFAULT_CLEAN, split=split, family=family,
                            damage=families[family], include_clean=family == "broad",
                            extra_dir=extra_dir, seeds=tuple(range(seeds)), max_side=max_side,
                            split_seed=split_seed, limit=limit, resume=resume, progress=progress)


def train_decision(outcomes, out, *, seed: int = 0, trees: int | None = None, gpu_speedup: float = 60.0,
                   view_outcomes: dict | None = None) -> pathlib.Path:
    """Fit the decision on outcome CSV(s) of the training family into the folder ``out`` (``trees``:
    None = ``fit_decision``'s default; ``view_outcomes``: {views: CSV} of the same rows with the
    U-Net averaged over more views)."""
    from artrestore.training.decision_fit import fit_decision

    extra = {} if trees is None else {"n_estimators": trees}
    return fit_decision(outcomes, out, seed=seed, gpu_speedup=gpu_speedup, view_outcomes=view_outcomes, **extra)


def views_outcomes(outcomes, out, views: int, *, clean_dir=None, extra_dir=None, max_side: int = OUTCOME_SIDE,
                   split_seed: int = 0) -> pathlib.Path:
    """The training outcome CSV ``outcomes`` with the U-Net's columns measured again averaging
    ``views`` views (the same damaged images, re-made from their sources), written to ``out``."""
    from artrestore.dl.ensemble import check_views
    from artrestore.training.routing_outcomes import (
        DEFAULT_CLEAN,
        broad_family,
        read_outcomes,
        remeasure_path,
        source_images,
        write_outcomes,
    )

    views, out = check_views(views), pathlib.Path(out)
    if out.exists():
        raise ValueError(f"{out} exists; not overwritten (choose another --out)")
    rows = read_outcomes(outcomes)
    images, errors = source_images(clean_dir or DEFAULT_CLEAN, "train", split_seed=split_seed, max_side=max_side,
                                   extra_dir=extra_dir)
    known = {name for name, _ in images}
    missing = sorted({r["source"] for r in rows} - known)
    if missing:
        raise ValueError(f"{outcomes}: {len(missing)} sources not found ({missing[:3]}); errors: {errors[:3]}")
    write_outcomes(out, remeasure_path(rows, images, broad_family, _restorer(dl_views=views), progress=True))
    return out


# --- argparse pieces, so each CLI step is `p = steps.add_parser(NAME, help=HELP[NAME]); ARGUMENTS[NAME](p);
# p.set_defaults(handler=RUN[NAME])` (cli/train/outcomes.py, cli/train/decision.py, an evaluate step).
def outcomes_arguments(p) -> None:
    p.add_argument("--out", required=True, help="outcome CSV to write")
    p.add_argument("--clean", default=None, help="clean source images (default $ARTRESTORE_DATA/clean)")
    p.add_argument("--extra", default=None, help="training-only clean images (all used)")
    p.add_argument("--seeds", type=int, default=2, help="damage draws per image and severity (shipped: 2)")
    p.add_argument("--max-side", type=int, default=OUTCOME_SIDE)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--split", choices=("train", "val"), default="train",
                   help="val: the validation sources, which no shipped model trained on (for measuring, not fitting)")
    from artrestore.training.unet_broad_data import CHOOSING_FAMILY_NAMES, DAMAGE_FAMILIES

    p.add_argument("--family", choices=(*DAMAGE_FAMILIES, *CHOOSING_FAMILY_NAMES), default="broad",
                   help="training-side damage family (legacy: the first synthesizer; no undamaged rows), or "
                        "proxy: rows to choose on, never to fit (docs/damage.md)")
    p.add_argument("--limit", type=int, default=None, help="first N sources only (smoke runs)")
    p.add_argument("--resume", action="store_true", help="keep rows already in --out")
    p.add_argument("--views", type=int, default=None,
                   help="with --from: measure only the U-Net again, averaged over this many views (2 or 8)")
    p.add_argument("--from", dest="from_csv", default=None, help="outcome CSV whose rows --views measures again")


def decision_arguments(p) -> None:
    p.add_argument("--outcomes", nargs="+", required=True, help="outcome CSV(s) of the training family")
    p.add_argument("--out", required=True, help="decision folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trees", type=int, default=None, help="trees per forest (default: fit_decision's, 200)")
    p.add_argument("--gpu-speedup", type=float, default=60.0)
    p.add_argument("--view-outcomes", nargs="+", default=(), metavar="VIEWS=CSV",
                   help="the same rows with the U-Net averaged over VIEWS views (e.g. 8=outcomes_train_x8.csv)")
    p.add_argument("--onto", default=None, metavar="FOLDER",
                   help="add the --view-outcomes calibrations to this decision folder ('bundled': the shipped one), "
                        "keeping its own forests; --outcomes are the one-view outcomes it was fitted on")


def report_arguments(p) -> None:
    p.add_argument("--out", default="benchmarks/results/routing")
    p.add_argument("--decision", default=None, help="decision folder (default: bundled)")
    p.add_argument("--clean", default=None, help="clean source images (default $ARTRESTORE_DATA/clean)")
    p.add_argument("--max-side", type=int, default=OUTCOME_SIDE)
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
    if (args.views is None) != (args.from_csv is None):
        raise ValueError("--views and --from go together")
    if args.views is not None:
        out = views_outcomes(args.from_csv, args.out, args.views, clean_dir=args.clean, extra_dir=args.extra,
                             max_side=args.max_side, split_seed=args.split_seed)
        print(f"wrote {out}")
        return 0
    path, errors = train_outcomes(args.out, clean_dir=args.clean, extra_dir=args.extra, seeds=args.seeds,
                                  max_side=args.max_side, split_seed=args.split_seed, limit=args.limit,
                                  resume=args.resume, split=args.split, family=args.family)
    print(f"wrote {path}" + (f"; {len(errors)} failures, first: {errors[:3]}" if errors else ""))
    return 1 if errors else 0


def run_decision(args) -> int:
    from artrestore.decision import LearnedDecision

    view_outcomes = {}
    for item in args.view_outcomes:
        views, sep, csv_path = item.partition("=")
        if not sep or not views.isdigit():
            raise ValueError(f"--view-outcomes takes VIEWS=CSV, got {item!r}")
        view_outcomes[int(views)] = csv_path
    if args.onto is not None:
        from artrestore.training.decision_views import add_views

        if not view_outcomes:
            raise ValueError("--onto adds --view-outcomes to a decision: give at least one VIEWS=CSV")
        folder = add_views(None if args.onto == "bundled" else args.onto, args.outcomes, view_outcomes, args.out)
        print(f"wrote {folder}: views {LearnedDecision.load(folder).view_counts}")
        return 0
    folder = train_decision(args.outcomes, args.out, seed=args.seed, trees=args.trees, gpu_speedup=args.gpu_speedup,
                            view_outcomes=view_outcomes)
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
