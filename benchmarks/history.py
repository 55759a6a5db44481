"""History report of the saved benchmark runs: a Markdown table and a PNG plot, one command.

Input: a pytest-benchmark storage folder (default ``benchmarks/history``, what
``scripts/bench.sh record`` writes: ``<machine id>/NNNN_<commit>_<date>.json``).
Output: ``<out>.md`` (per benchmark, the minimum and median time of every run, oldest first, then
the gate's ratios per run) and ``<out>.png`` (one panel per benchmark group, minimum time per run
on a log axis, the band up to the median). Times are milliseconds; the ratios are those of
``benchmarks/gate.py`` (artrestore / reference, lower is better).

Usage: python benchmarks/history.py [--storage DIR] [--out PREFIX]
"""
from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
from collections import defaultdict

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from gate import GATES, figures  # noqa: E402

HISTORY = pathlib.Path(__file__).resolve().parent / "history"


def load_runs(storage) -> list[dict]:
    """Every saved run under ``storage``, oldest first; each gets a short ``label``."""
    runs = [json.loads(path.read_text()) for path in pathlib.Path(storage).glob("*/*.json")]
    runs.sort(key=lambda run: run["datetime"])
    for number, run in enumerate(runs, 1):
        commit = run.get("commit_info", {})
        dirty = "+" if commit.get("dirty") else ""
        when = datetime.datetime.fromisoformat(run["datetime"]).strftime("%m-%d %H:%M")
        run["label"] = f"#{number} {commit.get('id', '?')[:7]}{dirty} {when}"
    return runs


def series(runs: list[dict]) -> dict[str, dict[str, list]]:
    """group -> benchmark name -> [(run index, min s, median s)] over the runs that have it."""
    by_group: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for index, run in enumerate(runs):
        for bench in run["benchmarks"]:
            stats = bench["stats"]
            by_group[bench["group"] or bench["name"]][bench["name"]].append((index, stats["min"], stats["median"]))
    return by_group


def markdown(runs: list[dict]) -> str:
    machines = sorted({f"{r['machine_info'].get('cpu', {}).get('brand_raw', '?')}, "
                       f"{r['machine_info'].get('cpu', {}).get('count', '?')} cores, "
                       f"Python {r['machine_info'].get('python_version', '?')}" for r in runs})
    lines = [f"# Latency history ({len(runs)} runs)", "",
             "Written by `bash scripts/bench.sh history` from `benchmarks/history/`. Cells: minimum / median",
             "time in ms (`-`: not in that run; `+` after a commit: uncommitted changes). Machines: "
             + "; ".join(machines) + ".", "",
             "| benchmark | " + " | ".join(r["label"] for r in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for group, benches in sorted(series(runs).items()):
        lines.append(f"| **{group}** |" + " |" * len(runs))
        for name, points in sorted(benches.items()):
            cells = {i: f"{lo * 1e3:.3g} / {mid * 1e3:.3g}" for i, lo, mid in points}
            lines.append(f"| {name} | " + " | ".join(cells.get(i, "-") for i in range(len(runs))) + " |")
    lines += ["", "Gate ratios per run (artrestore / reference; `benchmarks/gate.py`, lower is better):", "",
              "| gate | tolerance | " + " | ".join(r["label"] for r in runs) + " |",
              "|---|---|" + "---|" * len(runs)]
    for gate in GATES:
        cells = [(f"{f[2]:.3g}" if (f := figures(gate, run)) else "-") for run in runs]
        lines.append(f"| {gate.label} | +{gate.tolerance:.0%} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(runs: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    groups = sorted(series(runs).items())
    cols = 3
    rows = -(-(len(groups) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, (group, benches) in zip(axes.flat, groups):
        for name, points in sorted(benches.items()):
            x = [i + 1 for i, _, _ in points]
            lo = [v * 1e3 for _, v, _ in points]
            mid = [v * 1e3 for _, _, v in points]
            (line,) = ax.plot(x, lo, marker="o", label=name.replace("test_", ""))
            ax.fill_between(x, lo, mid, color=line.get_color(), alpha=0.15)
        ax.set_title(group, fontsize=10)
        ax.set_yscale("log")
        ax.set_xlabel("run")
        ax.set_ylabel("ms (min, band to median)")
        ax.set_xticks(range(1, len(runs) + 1))
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    ax = axes.flat[len(groups)]  # the gate's ratios, the figures it checks
    for gate in GATES:
        points = [(i + 1, f[2]) for i, run in enumerate(runs) if (f := figures(gate, run))]
        if points:
            ax.plot(*zip(*points), marker="o", label=f"{gate.label[:38]} (+{gate.tolerance:.0%})")
    ax.set_title("gate ratios (artrestore / reference)", fontsize=10)
    ax.set_yscale("log")
    ax.set_xlabel("run")
    ax.set_xticks(range(1, len(runs) + 1))
    ax.legend(fontsize=6, loc="lower left", framealpha=0.6)
    ax.grid(alpha=0.3)
    for ax in axes.flat[len(groups) + 1:]:
        ax.axis("off")
    for ax in axes.flat[:len(groups) + 1]:  # plain numbers on the log axes (after set_yscale)
        low, high = ax.get_ylim()
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g") if high / low < 10 else NullFormatter())
        ax.tick_params(axis="y", which="minor", labelsize=7)
    fig.suptitle(f"artrestore latency across {len(runs)} saved runs (runs listed in the Markdown report)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(storage=HISTORY, out=HISTORY / "report") -> tuple[pathlib.Path, pathlib.Path]:
    runs = load_runs(storage)
    if not runs:
        raise SystemExit(f"no saved runs under {storage}: record one with `bash scripts/bench.sh record`")
    md, png = pathlib.Path(f"{out}.md"), pathlib.Path(f"{out}.png")
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(runs) + f"\n![latency history]({png.name})\n")
    plot(runs, png)
    return md, png


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", default=str(HISTORY))
    parser.add_argument("--out", default=str(HISTORY / "report"), help="path prefix of the .md and .png")
    args = parser.parse_args(argv)
    for path in write_report(args.storage, args.out):
        print(path)


if __name__ == "__main__":
    main()
