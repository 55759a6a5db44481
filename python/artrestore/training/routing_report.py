"""The routing report: the learned decision against every single path and the per-image oracle.

``family_report(rows, decision)`` replays each decision on measured outcome rows (the outcome of a
path on an image does not depend on who chose it; the command re-runs a few images through
``HybridRestorer.restore(strategy="auto")`` to hold that): ``auto`` at each ``prefer``, the guide's
threshold rule (the router's calibrated thresholds), every single path, ``none`` and the oracle
(the best path per image, ``none`` included). Per severity: mean PSNR (dB), gain over the input
(dB), SSIM, mean time per image (s, wall, where the outcomes were measured; profile
``accelerated``: the U-Net's time divided by the decision's ``gpu_speedup``), the confusion table
of the path ``auto`` chose against the best path, and the severity classifier's accuracy.
``targets`` checks issue 16's targets, ``markdown`` renders a report dict. The command
(``artrestore routing report``) measures the
test split on the broad ("seen") and check ("unseen") families and writes JSON + Markdown.
"""
from __future__ import annotations

import logging

import numpy as np

from artrestore.analysis import FEATURE_NAMES, ROUTING_FEATURE_NAMES
from artrestore.decision import NONE, PREFERENCES, LearnedDecision
from artrestore.training.routing_outcomes import CLEAN
from artrestore.training.routing_outcomes import DL_PATH as DL

log = logging.getLogger(__name__)

__all__ = ["replay", "check_unet", "family_report", "targets", "markdown", "SEVERITY_ORDER"]

SEVERITY_ORDER = ("light", "moderate", "severe", CLEAN)
# Targets of issue 16 (unseen family, test images, in-process CPU profile).
TARGET_ORACLE_FRACTION = 0.9
TARGET_TIME_FRACTION = 0.5
TARGET_SEVERITY_ACCURACY = 0.8


def replay(rows: list[dict], decision: LearnedDecision, *, profile: str = "local", prefer: str = "balanced",
           time_budget_s: float | None = None, views: int = 1) -> list[str]:
    """The path the learned decision takes for each outcome row (from its recorded features), with
    the U-Net averaging ``views`` views: ``LearnedDecision.decide``, as the restorer calls it (its
    clean guard included)."""
    x = np.array([[r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for r in rows], np.float32)
    return [decision.decide(v, r["height"] * r["width"], profile=profile, prefer=prefer, time_budget_s=time_budget_s,
                            views=views).path for r, v in zip(rows, x)]


def check_unet(rows: list[dict], chosen: list[str], acceptance) -> tuple[list[str], np.ndarray]:
    """``chosen`` after the check that follows the U-Net (``artrestore.acceptance``; None: no check):
    rows routed to the U-Net whose recorded change it does not keep go to its fallback path.
    Returns (paths, bool mask of those rows), so the U-Net's time can still be charged for them."""
    rejected = np.zeros(len(rows), bool)
    if acceptance is None:
        return list(chosen), rejected
    from artrestore.acceptance import CHANGE_FEATURE_NAMES, FALLBACK_PATH

    paths = list(chosen)
    for i, (r, path) in enumerate(zip(rows, chosen)):
        if path == DL:
            gain = acceptance.predict([r[f"f_{n}"] for n in ROUTING_FEATURE_NAMES],
                                      [r[f"c_{n}"] for n in CHANGE_FEATURE_NAMES])
            if not acceptance.accepts(gain):
                paths[i], rejected[i] = FALLBACK_PATH, True
    return paths, rejected


def _rule(rows: list[dict], router_path=None) -> list[str]:
    from artrestore.router import DecisionEngine, Router

    engine = DecisionEngine(Router.load(router_path).thresholds)
    return [engine.decide({n: r[f"f_{n}"] for n in FEATURE_NAMES})[1] for r in rows]


def _seconds(row: dict, path: str, profile: str, speedup: float) -> float:
    s = row[f"ms_{path}"] / 1e3
    return s / speedup if (profile == "accelerated" and path == DL) else s


def _summarise(rows, choices: dict[str, list[str]], profile: str, speedup: float, unet_also=None) -> dict:
    """{strategy: {severity: {psnr, gain_db, ssim, seconds, n}}} for each strategy's per-row paths;
    ``unet_also``: {strategy: bool per row}, rows that ran the U-Net before the path they ended on."""
    out: dict = {}
    for name, chosen in choices.items():
        extra = (unet_also or {}).get(name, np.zeros(len(rows), bool))
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
                "seconds": float(np.mean([_seconds(rows[i], chosen[i], profile, speedup)
                                          + (_seconds(rows[i], DL, profile, speedup) if extra[i] else 0.0)
                                          for i in idx])), "n": len(idx)}
    return out


def _confusion(predicted: list[str], truth: list[str], labels: list[str]) -> dict:
    """Counts: row = truth label, column = predicted label."""
    matrix = [[sum(1 for p, t in zip(predicted, truth) if p == col and t == row) for col in labels] for row in labels]
    return {"labels": labels, "matrix": matrix}


def family_report(rows, decision: LearnedDecision, router_path, profile: str, acceptance=None, views: int = 1) -> dict:
    """The report of one family's rows (the U-Net's columns measured with ``views`` views, which the
    decision is asked with); ``auto_*`` include the check after the U-Net when ``acceptance`` is
    given (then ``auto_balanced_unchecked`` is the decision alone)."""
    paths = [p for p in decision.paths if f"psnr_{p}" in rows[0]]
    all_paths = [NONE, *paths]
    best = [max(all_paths, key=lambda p: r[f"psnr_{p}"]) for r in rows]
    choices = {f"always_{p}": [p] * len(rows) for p in all_paths}
    choices["oracle"] = best
    unet_also = {}
    for prefer in PREFERENCES:
        unchecked = replay(rows, decision, profile=profile, prefer=prefer, views=views)
        choices[f"auto_{prefer}"], unet_also[f"auto_{prefer}"] = check_unet(rows, unchecked, acceptance)
        if acceptance is not None and prefer == "balanced":
            choices["auto_balanced_unchecked"] = unchecked
    choices["rule"] = _rule(rows, router_path)
    speedup = float(decision.metadata.get("gpu_speedup", 1.0))
    damaged = [i for i, r in enumerate(rows) if r["severity"] != CLEAN]
    x = np.array([[rows[i][f"f_{n}"] for n in ROUTING_FEATURE_NAMES] for i in damaged], np.float32)
    predicted = [decision.classes[k] for k in np.argmax(decision.predict_severity_proba(x), axis=1)] if damaged else []
    truth = [rows[i]["severity"] for i in damaged]
    return {
        "strategies": _summarise(rows, choices, profile, speedup, unet_also),
        "unet_checked_back": {prefer: int(unet_also[f"auto_{prefer}"].sum()) for prefer in PREFERENCES},
        "auto_choices": {prefer: {s: {p: sum(1 for i, r in enumerate(rows) if r["severity"] == s
                                             and choices[f"auto_{prefer}"][i] == p) for p in all_paths}
                                  for s in SEVERITY_ORDER} for prefer in PREFERENCES},
        "confusion_auto_balanced_vs_best": _confusion([choices["auto_balanced"][i] for i in damaged],
                                                      [best[i] for i in damaged], all_paths),
        "severity_accuracy": float(np.mean([p == t for p, t in zip(predicted, truth)])) if truth else None,
        "severity_confusion": _confusion(predicted, truth, list(decision.classes)),
    }


def targets(report: dict) -> dict:
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


def _libraries(report: dict) -> str:
    """", numpy 2.4.6, opencv 5.1.0, ..." for a report that records its libraries (older ones do not)."""
    return "".join(f", {name} {version}" for name, version in report.get("libraries", {}).items() if name != "python")


def markdown(report: dict) -> str:
    lines = ["# Routing report (issue 16)", "",
             f"Decision: `{report['decision']['folder']}` (paths {', '.join(report['decision']['paths'])}; margin "
             f"{report['decision']['margin_db']} dB; cost dB/s {report['decision']['cost_db_per_s']}). "
             f"Machine: {report['machine']}{_libraries(report)}. Test split sources, max side {report['max_side']} px, seeds "
             f"{report['seeds']}. PSNR dB (gain over input) / SSIM; time = mean seconds per image (wall, this machine).", ""]
    for family, label in (("check", "unseen (check family)"), ("broad", "seen (broad training family)")):
        if family not in report["families"]:
            continue
        fam = report["families"][family]
        for profile in ("local", "accelerated"):
            strategies = fam[profile]["strategies"]
            names = list(strategies)
            served = f" (the U-Net averaged over {report.get('accelerated_views', 1)} views, `dl.ensemble`)"
            lines += [f"## {label}, profile `{profile}`" + (served if profile == "accelerated" else ""), "",
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
                          f"{t['severity_accuracy']['accuracy']:.3f} "
                          f"({'met' if t['severity_accuracy']['met'] else 'not met'}).", ""]
                for key, title in (("confusion_auto_balanced_vs_best",
                                    "Chosen path (`auto` balanced, columns) vs best path (rows), damaged images:"),
                                   ("severity_confusion", "Severity (rows: true, columns: predicted):")):
                    c = fam[profile][key]
                    lines += [title, "", "| | " + " | ".join(c["labels"]) + " |", "|---|" + "---|" * len(c["labels"])]
                    lines += [f"| {lab} | " + " | ".join(map(str, row)) + " |" for lab, row in zip(c["labels"], c["matrix"])]
                    lines.append("")
                lines.append("")
    return "\n".join(lines) + "\n"
