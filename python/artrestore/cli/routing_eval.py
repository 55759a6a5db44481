"""``artrestore routing report``: the learned decision on the TEST split of both damage families.

``evaluate_routing(out, ...)`` measures (or with ``reuse`` reads) the outcomes of every path on the
broad ("seen") and the check ("unseen") family, replays the decision on them per deployment profile
(``training.routing_report``; the ``accelerated`` profile's U-Net re-measured with its views,
``dl.ensemble``), re-runs a few images through ``restore(strategy="auto")`` to hold the replay to
the real thing, and writes ``routing_report.json`` + ``routing_report.md`` into ``out``. It is a
CLI module because it brings the check family, the restorer and training code together, which
neither may do for the other.
"""
from __future__ import annotations

import json
import os
import pathlib
import platform
import time

import numpy as np

from artrestore._outcomes import OUTCOME_SIDE

__all__ = ["evaluate_routing"]


def _restorer(decision: str = "learned", decision_path=None, **kwargs):
    from artrestore.restorer import HybridRestorer

    return HybridRestorer(decision=decision, decision_path=decision_path, **kwargs)


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
    # A served U-Net runs the SavedModel's float graph on a GPU, not the in-process default precision.
    served = _restorer("learned", decision_path, dl_views=views, dl_precision="fp32")
    write_outcomes(csv_path, remeasure_path(rows, images, damage, served))
    return read_outcomes(csv_path)


def evaluate_routing(out, *, decision_path=None, clean_dir=None, max_side: int = OUTCOME_SIDE, seeds: int = 1,
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
    from artrestore.evaluation import library_versions
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
        families[family] = {profile: family_report(profile_rows, decision, router_path, profile, acceptance, n_views)
                            for profile, profile_rows, n_views in (("local", rows, 1), ("accelerated", served, views))}
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
                     "calibrated_views": list(decision.view_counts),
                     "trained_on": decision.metadata.get("data")},
        "acceptance": None if acceptance is None else {"folder": str(acceptance_path or "bundled"),
                                                       "margin_db": acceptance.margin_db},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "libraries": library_versions(),
        "max_side": max_side, "seeds": list(range(seeds)), "accelerated_views": views,
        "decide_us_per_image": (time.perf_counter() - start) / 200 * 1e6, "errors": errors, "families": families,
        "targets_unseen_local": families["check"]["local"]["targets"],
    }
    (out / "routing_report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "routing_report.md").write_text(markdown(report))
    return report
