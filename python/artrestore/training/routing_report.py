"""The routing report: the learned decision against every single path and the per-image oracle.

``routing_report(out_dir, decision_path=None, ...)`` measures (or, with ``reuse``, reads) the
outcomes of every path on the TEST split's sources damaged by both families: ``broad`` (the
training family: "seen") and ``check`` (the independent family: "unseen", looked at here only),
plus the undamaged sources (``clean``). It then replays each decision on the measured outcomes
(the outcome of a path on an image does not depend on who chose it; ``--verify`` re-runs a few
images through ``HybridRestorer.restore(strategy="auto")`` to hold that): ``auto`` at each
``prefer`` and deployment profile, the guide's threshold rule (router's calibrated thresholds),
every single path, ``none`` and the oracle (the best path per image, ``none`` included). Per family
and severity: mean PSNR (dB), gain over the input (dB), SSIM, mean time per image (s, wall, this
machine; ``accelerated``: the U-Net's time divided by the decision's ``gpu_speedup``), the
confusion table of the path ``auto`` chose against the best path, and the severity classifier's
accuracy. Writes ``routing_report.json`` and ``routing_report.md`` into ``out_dir`` and the
outcome CSVs beside them. The lead wires this as ``artrestore evaluate routing``::

    python -m artrestore.training.routing_report --out benchmarks/results/routing [--reuse]
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib
import platform
import time

import numpy as np

from artrestore.analysis import FEATURE_NAMES, ROUTING_FEATURE_NAMES
from artrestore.decision import NONE, PREFERENCES, LearnedDecision
from artrestore.training.routing_outcomes import CLEAN, DEFAULT_CLEAN, FAMILIES, collect_outcomes, read_outcomes

log = logging.getLogger(__name__)

__all__ = ["routing_report", "replay", "main"]

SEVERITY_ORDER = ("light", "moderate", "severe", CLEAN)
DL = "deep_learning"
# Targets of issue 16 (unseen family, test images, in-process CPU profile).
TARGET_ORACLE_FRACTION = 0.9
TARGET_TIME_FRACTION = 0.5
TARGET_SEVERITY_ACCURACY = 0.8


def replay(rows: list[dict], decision: LearnedDecision, *, profile: str = "local", prefer: str = "balanced",
           time_budget_s: float | None = None) -> list[str]:
    """The path the learned decision takes for each outcome row (from its recorded features)."""
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for r in rows], np.float32)
    gains = decision.predict_gains(x)
    chosen = []
    for r, g in zip(rows, gains):
        seconds = decision.expected_seconds(r["height"] * r["width"], profile)
        chosen.append(decision.choose(dict(zip(decision.paths, map(float, g))), seconds, prefer, time_budget_s)[0])
    return chosen


def _rule(rows: list[dict], router_path=None) -> list[str]:
    from artrestore.router import DecisionEngine, Router

    engine = DecisionEngine(Router.load(router_path).thresholds)
    return [engine.decide({n: r[f"f_{n}"] for n in FEATURE_NAMES})[1] for r in rows]


def _seconds(row: dict, path: str, profile: str, speedup: float) -> float:
    s = row[f"ms_{path}"] / 1e3
    return s / speedup if (profile == "accelerated" and path == DL) else s


def _summarise(rows, choices: dict[str, list[str]], profile: str, speedup: float) -> dict:
    """{strategy: {severity: {psnr, gain_db, ssim, seconds, n}}} for each strategy's per-row paths."""
    out: dict = {}
    for name, chosen in choices.items():
        for severity in SEVERITY_ORDER + ("all_damaged",):
            idx = [i for i, r in enumerate(rows) if (r["severity"] == severity) or
                   (severity == "all_damaged" and r["severity"] != CLEAN)]
            if not idx:
                continue
            psnr = [rows[i][f"psnr_{chosen[i]}"] for i in idx]
            base = [rows[i][f"psnr_{NONE}"] for i in idx]
            out.setdefault(name, {})[severity] = {
                "psnr": float(np.mean(psnr)), "gain_db": float(np.mean(np.subtract(psnr, base))),
                "ssim": float(np.mean([rows[i][f"ssim_{chosen[i]}"] for i in idx])),
                "seconds": float(np.mean([_seconds(rows[i], chosen[i], profile, speedup) for i in idx])), "n": len(idx)}
    return out


def _confusion(predicted: list[str], truth: list[str], labels: list[str]) -> dict:
    """Counts: row = truth label, column = predicted label."""
    matrix = [[sum(1 for p, t in zip(predicted, truth) if p == col and t == row) for col in labels] for row in labels]
    return {"labels": labels, "matrix": matrix}


def _family_report(rows, decision: LearnedDecision, router_path, profile: str) -> dict:
    paths = [p for p in decision.paths if f"psnr_{p}" in rows[0]]
    all_paths = [NONE, *paths]
    best = [max(all_paths, key=lambda p: r[f"psnr_{p}"]) for r in rows]
    choices = {f"always_{p}": [p] * len(rows) for p in all_paths}
    choices["oracle"] = best
    for prefer in PREFERENCES:
        choices[f"auto_{prefer}"] = replay(rows, decision, profile=profile, prefer=prefer)
    choices["rule"] = _rule(rows, router_path)
    speedup = float(decision.metadata.get("gpu_speedup", 1.0))
    damaged = [i for i, r in enumerate(rows) if r["severity"] != CLEAN]
    x = np.array([[rows[i][f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for i in damaged], np.float32)
    predicted = [decision.classes[k] for k in np.argmax(decision.predict_severity_proba(x), axis=1)] if damaged else []
    truth = [rows[i]["severity"] for i in damaged]
    return {
        "strategies": _summarise(rows, choices, profile, speedup),
        "auto_choices": {prefer: {s: {p: sum(1 for i, r in enumerate(rows) if r["severity"] == s
                                             and choices[f"auto_{prefer}"][i] == p) for p in all_paths}
                                  for s in SEVERITY_ORDER} for prefer in PREFERENCES},
        "confusion_auto_balanced_vs_best": _confusion([choices["auto_balanced"][i] for i in damaged],
                                                      [best[i] for i in damaged], all_paths),
        "severity_accuracy": float(np.mean([p == t for p, t in zip(predicted, truth)])) if truth else None,
        "severity_confusion": _confusion(predicted, truth, list(decision.classes)),
    }


def _targets(report: dict) -> dict:
    s = report["strategies"]
    auto, oracle, dl = s["auto_balanced"], s["oracle"], s.get(f"always_{DL}")
    severities = [k for k in ("light", "moderate", "severe") if k in auto]
    fraction = auto["all_damaged"]["gain_db"] / oracle["all_damaged"]["gain_db"] if oracle["all_damaged"]["gain_db"] > 0 else None
    time_fraction = auto["all_damaged"]["seconds"] / dl["all_damaged"]["seconds"] if dl else None
    return {
        "auto_never_below_input": {"met": all(auto[k]["gain_db"] >= 0 for k in severities),
                                   "gain_db": {k: auto[k]["gain_db"] for k in severities}},
        "auto_vs_oracle_gain": {"met": fraction is not None and fraction >= TARGET_ORACLE_FRACTION, "fraction": fraction},
        "auto_vs_always_unet_time": {"met": time_fraction is not None and time_fraction <= TARGET_TIME_FRACTION,
                                     "fraction": time_fraction},
        "severity_accuracy": {"met": (report["severity_accuracy"] or 0) >= TARGET_SEVERITY_ACCURACY,
                              "accuracy": report["severity_accuracy"]},
    }


def _verify(rows, decision_path, n: int, clean_dir, max_side: int) -> dict:
    """Re-run ``n`` rows through ``restore(strategy='auto')`` and compare the chosen path."""
    from artrestore.restorer import HybridRestorer
    from artrestore.training.routing_outcomes import source_images

    if n <= 0:
        return {"checked": 0}
    restorer = HybridRestorer(decision_path=decision_path)
    expected = replay(rows, restorer.decider)
    images = dict(source_images(clean_dir, "test", max_side=max_side)[0])
    agree, checked = 0, 0
    for r, want in zip(rows[:n], expected[:n]):
        if r["source"] not in images:
            continue
        clean = images[r["source"]]
        damaged = clean if r["severity"] == CLEAN else FAMILIES[r["family"]](clean, r["severity"], r["seed"])
        got = restorer.restore(damaged, "auto")[1]["method"]
        agree += got == want
        checked += 1
    return {"checked": checked, "agree": agree}


def _markdown(report: dict) -> str:
    lines = ["# Routing report (issue 16)", "",
             f"Decision: `{report['decision']['folder']}` (paths {', '.join(report['decision']['paths'])}; margin "
             f"{report['decision']['margin_db']} dB; cost dB/s {report['decision']['cost_db_per_s']}). "
             f"Machine: {report['machine']}. Test split sources, max side {report['max_side']} px, seeds "
             f"{report['seeds']}. PSNR dB (gain over input) / SSIM; time = mean seconds per image (wall, this machine).", ""]
    for family, label in (("check", "unseen (check family)"), ("broad", "seen (broad training family)")):
        if family not in report["families"]:
            continue
        fam = report["families"][family]
        for profile in ("local", "accelerated"):
            strategies = fam[profile]["strategies"]
            names = list(strategies)
            lines += [f"## {label}, profile `{profile}`", "",
                      "| severity | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
            for sev in SEVERITY_ORDER + ("all_damaged",):
                if sev not in strategies[names[0]]:
                    continue
                cells = [f"{strategies[n][sev]['psnr']:.2f} ({strategies[n][sev]['gain_db']:+.2f}) / "
                         f"{strategies[n][sev]['ssim']:.3f}" for n in names]
                lines.append(f"| {sev} (n={strategies[names[0]][sev]['n']}) | " + " | ".join(cells) + " |")
            lines.append("| time s (all damaged) | " + " | ".join(
                f"{strategies[n]['all_damaged']['seconds']:.3f}" for n in names) + " |")
            lines.append("")
            if profile == "local":
                t = fam[profile]["targets"]
                lines += [f"Targets ({family}, local): never below input {t['auto_never_below_input']['met']} "
                          f"({', '.join(f'{k} {v:+.2f}' for k, v in t['auto_never_below_input']['gain_db'].items())}); "
                          f"auto/oracle gain {t['auto_vs_oracle_gain']['fraction']:.3f} "
                          f"({'met' if t['auto_vs_oracle_gain']['met'] else 'not met'}); auto/always-U-Net time "
                          f"{t['auto_vs_always_unet_time']['fraction']:.3f} "
                          f"({'met' if t['auto_vs_always_unet_time']['met'] else 'not met'}); severity accuracy "
                          f"{t['severity_accuracy']['accuracy']:.3f} ({'met' if t['severity_accuracy']['met'] else 'not met'}).", ""]
                for key, title in (("confusion_auto_balanced_vs_best",
                                    "Chosen path (`auto` balanced, columns) vs best path (rows), damaged images:"),
                                   ("severity_confusion", "Severity (rows: true, columns: predicted):")):
                    c = fam[profile][key]
                    lines += [title, "", "| | " + " | ".join(c["labels"]) + " |", "|---|" + "---|" * len(c["labels"])]
                    lines += [f"| {lab} | " + " | ".join(map(str, row)) + " |" for lab, row in zip(c["labels"], c["matrix"])]
                    lines.append("")
                lines.append("")
    return "\n".join(lines) + "\n"


def routing_report(out_dir, decision_path=None, *, clean_dir=DEFAULT_CLEAN, max_side: int = 384, seeds=(0,),
                   reuse: bool = False, verify: int = 3, router_path=None, limit: int | None = None,
                   progress: bool = True) -> dict:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    decision = LearnedDecision.load(decision_path)
    families, errors = {}, []
    for family in ("check", "broad"):
        csv_path = out_dir / f"outcomes_test_{family}.csv"
        if not (reuse and csv_path.is_file()):
            _, errs = collect_outcomes(csv_path, clean_dir=clean_dir, split="test", family=family, seeds=seeds,
                                       max_side=max_side, limit=limit, progress=progress)
            errors += errs
        rows = read_outcomes(csv_path)
        families[family] = {profile: _family_report(rows, decision, router_path, profile)
                            for profile in ("local", "accelerated")}
        families[family]["local"]["targets"] = _targets(families[family]["local"])
        if family == "check":
            families[family]["verify_auto_through_restore"] = _verify(rows, decision_path, verify, clean_dir, max_side)
    start = time.perf_counter()
    probe = np.zeros(len(ROUTING_FEATURE_NAMES), np.float32)
    for _ in range(200):
        decision.decide(probe, 512 * 512)
    decide_us = (time.perf_counter() - start) / 200 * 1e6
    report = {
        "decision": {"folder": str(decision_path or "bundled"), "paths": list(decision.paths),
                     "margin_db": decision.margin_db, "cost_db_per_s": decision.costs,
                     "trained_on": decision.metadata.get("data")},
        "machine": f"{platform.machine()} {platform.processor() or ''} {__import__('os').cpu_count()} cores".strip(),
        "max_side": max_side, "seeds": list(seeds), "decide_us_per_image": decide_us, "errors": errors,
        "families": families,
    }
    report["targets_unseen_local"] = families["check"]["local"]["targets"]
    (out_dir / "routing_report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "routing_report.md").write_text(_markdown(report))
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="artrestore evaluate routing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/routing", help="folder for the report and outcomes")
    parser.add_argument("--decision", default=None, help="decision folder (default: bundled)")
    parser.add_argument("--clean", default=str(DEFAULT_CLEAN))
    parser.add_argument("--max-side", type=int, default=384)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="reuse outcome CSVs already in --out")
    parser.add_argument("--verify", type=int, default=3, help="images re-run through restore(auto)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    report = routing_report(args.out, args.decision, clean_dir=args.clean, max_side=args.max_side,
                            seeds=tuple(range(args.seeds)), reuse=args.reuse, verify=args.verify)
    t = report["families"]["check"]["local"]["targets"]
    print(json.dumps({k: v["met"] for k, v in t.items()}))
    print(f"wrote {pathlib.Path(args.out) / 'routing_report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
