"""The latency regression gate: ratios measured within one run, each with a stated tolerance.

Input: one pytest-benchmark run as JSON (``--benchmark-json``) of ``test_latency*.py`` and the
committed baselines ``benchmarks/baselines/<machine id>/*.json`` (pytest-benchmark's own storage).
Output: a line per gate (PASS / FAIL / SKIP) naming the benchmarks and both figures; exit status 1
when any gate fails.

Why ratios: on a shared 2-core machine another process can make every absolute time 2-3x slower,
but it slows the artrestore path and its peer in the same run alike (in our runs it slowed the
peers more, which only makes the ratio look better). Each gate divides the artrestore figure by
its reference figure and fails when that ratio grew by more than the gate's tolerance over the
reference ratio of the baselines: the largest ratio among the baseline runs recorded on this
machine kind (or on any machine when none matches), so one lucky baseline run cannot make the gate
stricter. The figure is each benchmark's minimum time (a busy machine only adds time; the
single-threaded calls and the fresh processes are timed in CPU time, see test_latency.py), except for
routing, whose two calls are too short and too few for a stable minimum (see ``Gate.stat``), and for
two threads vs one and gRPC vs in process: there the two sides run back to back in each round
(seconds of each in the benchmark's ``extra_info``) and the gate takes the median per-round ratio,
because the load of a shared machine changes over the seconds these runs take.

Absolute times are left to pytest-benchmark (``--benchmark-compare-fail``, ``ABSOLUTE_FAIL``),
and only where a baseline from this machine kind exists (``compare-args`` finds the newest; the
kind is ``machine_kind``): an absolute time on another machine says nothing about the code.

Usage: ``python benchmarks/gate.py check RUN.json``; ``python benchmarks/gate.py compare-args``
prints pytest-benchmark's options for the absolute comparison, or nothing without a same-machine
baseline. ``scripts/bench.sh gate`` runs both around the quick benchmark run.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import statistics
import sys
from dataclasses import dataclass

BASELINES = pathlib.Path(__file__).resolve().parent / "baselines"
STAT = "min"
# pytest-benchmark's --benchmark-compare-fail on absolute times against a same-machine baseline:
# the peers alone moved 3x between runs on the shared 2-core machine, so this is a backstop for
# gross regressions (say, TensorFlow imported on `import artrestore`); the ratios catch the rest.
ABSOLUTE_FAIL = "min:150%"


@dataclass(frozen=True)
class Gate:
    """``subject / reference`` may grow by ``tolerance`` (0.3 = 30 %) over the baselines' ratio.

    ``subject`` and ``reference`` are benchmark names (``test_...``) in one run; with ``bench`` they
    are instead two ``extra_info`` keys of that benchmark holding per-round seconds, and with
    ``peer`` (two more keys) each round's ratio is divided by the peer's ratio of that round.
    """

    label: str
    subject: str
    reference: str
    tolerance: float
    bench: str | None = None
    peer: tuple[str, str] | None = None
    stat: str = STAT


GATES: tuple[Gate, ...] = (
    # +50 %: on the AVX2 VM, with the code unchanged, these two ratios ran 0.188-0.280 and
    # 0.93-1.42 over four runs on 2026-11-30 (the peers' own minima moved 7.3-10.5 ms and 15.7-20.5
    # ms); +30 % left one run 9 % and another 3 % from failing.
    Gate("analysis 1024^2 vs scipy.fft + OpenCV peer", "test_analysis_artrestore", "test_analysis_scipy_peer", 0.50),
    Gate("fused colour + sharpen 1024^2 vs OpenCV", "test_fused_artrestore", "test_fused_opencv_peer", 0.50),
    # Medians and a wide tolerance: on one AVX2 VM the minima of these runs moved 23-34 us (ours,
    # 3000 rounds of a 30 us call) and 8.6-14 ms (the peer, 30 rounds) between runs, their ratio by
    # 1.6x (CI failed once on it); the medians' ratio stayed within 2.5-3.3e-3 over 19 idle runs on
    # two machine kinds but reached 4.5e-3 with a second job on the 2 cores, where a 30 us call
    # loses its caches more than a 10 ms one. On 2026-12-01, with the routing code unchanged since the
    # baselines, three gate runs on the idle Zen 4 VM gave 4.8e-3, 5.5e-3 and 6.0e-3 (ours bimodal
    # inside the quick run: minimum 22 us, median 40-50 us, as in the baseline run; the peer's median
    # 8.4 ms against the baseline's 11-12 ms), past +60 % twice. +100 %: the lead is 250-400x, and
    # what this gate is for (a Python or per-call allocation path) costs 10x or more.
    Gate("routing one image vs scikit-learn (same forest)", "test_route_artrestore", "test_route_sklearn_peer", 1.00,
         stat="median"),
    Gate("auto on light damage 1024^2 vs scipy/sklearn/OpenCV pipeline", "test_auto_light_artrestore",
         "test_auto_light_opencv_peer", 0.30),
    Gate("2 threads vs 1 thread, over OpenCV's 2 vs 1 (per round)", "two_threads_s", "one_thread_s", 0.40,
         bench="test_two_threads_artrestore", peer=("peer_two_threads_s", "peer_one_thread_s")),
    # +60 %: two fresh interpreters of 20-40 ms CPU each; on the AVX2 VM their ratio ran 1.15-2.15
    # over seven runs of unchanged import code (CI failed once at 2.15). What this gate is for, a
    # heavy import on `import artrestore` (TensorFlow: 5 s), moves it 100-fold.
    Gate("import artrestore vs bare interpreter (fresh process)", "test_import_artrestore", "test_bare_python_peer",
         0.60),
    Gate("first image (fresh process) vs import numpy + cv2", "test_first_image_artrestore",
         "test_import_numpy_cv2_peer", 0.30),
    Gate("U-Net tile over gRPC vs in process (per round)", "grpc_s", "in_process_s", 0.25,
         bench="test_unet_tile_grpc"),
)


def machine_kind(machine_info: dict) -> tuple:
    """What makes times and ratios comparable: OS, architecture, CPU name, family, model and count,
    whether it has AVX-512, Python x.y. The brand alone is not enough: "AMD EPYC" names both the
    AVX-512 Zen 4 VMs and AVX2-only ones, where the C++ core's lead over NumPy/SciPy halves."""
    cpu = machine_info.get("cpu", {})
    python = ".".join(str(machine_info.get("python_version", "")).split(".")[:2])
    return (machine_info.get("system"), machine_info.get("machine"), cpu.get("brand_raw"), cpu.get("family"),
            cpu.get("model"), "avx512f" in cpu.get("flags", []), cpu.get("count"),
            machine_info.get("python_implementation"), python)


def this_machine_info() -> dict:
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    return pytest_benchmark_generate_machine_info()


def load_baselines(folder=BASELINES) -> list[tuple[pathlib.Path, dict]]:
    """Every saved run under ``folder`` (any machine id), oldest first by file name."""
    paths = sorted(pathlib.Path(folder).glob("*/*.json"), key=lambda p: p.name)
    return [(path, json.loads(path.read_text())) for path in paths]


def same_machine(baselines, machine_info: dict) -> list[tuple[pathlib.Path, dict]]:
    kind = machine_kind(machine_info)
    return [(path, data) for path, data in baselines if machine_kind(data["machine_info"]) == kind]


def promote(history, folder=BASELINES, count: int = 3) -> list[pathlib.Path]:
    """The newest ``count`` runs of this machine kind in ``history`` become its baselines (the old
    baselines of this kind are removed); returns the new files."""
    info = this_machine_info()
    chosen = same_machine(load_baselines(history), info)[-count:]
    if not chosen:
        raise SystemExit(f"no saved run of this machine kind under {history}: run `bash scripts/bench.sh record`")
    for path, _ in same_machine(load_baselines(folder), info):
        path.unlink()
    written = []
    for path, _ in chosen:
        target = pathlib.Path(folder) / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    return written


def _by_name(run: dict) -> dict[str, dict]:
    return {bench["name"]: bench for bench in run["benchmarks"]}


def figures(gate: Gate, run: dict) -> tuple[float, float, float] | None:
    """(subject seconds, reference seconds, ratio) of ``gate`` in ``run``; None when not measured."""
    benches = _by_name(run)
    if gate.bench is not None:
        extra = benches.get(gate.bench, {}).get("extra_info", {})
        keys = (gate.subject, gate.reference, *(gate.peer or ()))
        if any(key not in extra for key in keys):
            return None
        rounds = list(zip(*(extra[key] for key in keys)))
        ratios = [r[0] / r[1] / (r[2] / r[3] if gate.peer else 1.0) for r in rounds]
        return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds),
                statistics.median(ratios))
    if gate.subject not in benches or gate.reference not in benches:
        return None
    subject, reference = benches[gate.subject]["stats"][gate.stat], benches[gate.reference]["stats"][gate.stat]
    return subject, reference, subject / reference


@dataclass(frozen=True)
class Result:
    gate: Gate
    status: str  # PASS, FAIL or SKIP
    message: str


def _seconds(value: float) -> str:
    return f"{value * 1e3:.3g} ms" if value < 1 else f"{value:.3g} s"


def check(run: dict, baselines: list[tuple[pathlib.Path, dict]]) -> list[Result]:
    """Every gate of ``GATES`` on ``run`` against ``baselines`` (prefer those of the run's machine kind)."""
    matching = same_machine(baselines, run["machine_info"])
    where = "this machine kind" if matching else "another machine kind"
    matching = matching or baselines
    results = []
    for gate in GATES:
        now = figures(gate, run)
        if now is None:
            results.append(Result(gate, "SKIP", f"SKIP {gate.label}: not in this run"))
            continue
        past = [(path, f[2]) for path, data in matching if (f := figures(gate, data)) is not None]
        if not past:
            results.append(Result(gate, "SKIP", f"SKIP {gate.label}: no baseline has it"))
            continue
        source, base = max(past, key=lambda p: p[1])
        limit = base * (1 + gate.tolerance)
        subject, reference, ratio = now
        if gate.bench is None:
            measured = f"{gate.subject} / {gate.reference} = {_seconds(subject)} / {_seconds(reference)}"
            if gate.stat != STAT:
                measured += f" ({gate.stat}s)"
        else:
            measured = (f"{gate.bench}: {gate.subject} / {gate.reference} = {_seconds(subject)} / "
                        f"{_seconds(reference)} (medians)")
            if gate.peer:
                extra = _by_name(run)[gate.bench]["extra_info"]
                measured += (f" over the peer's {gate.peer[0]} / {gate.peer[1]} = "
                             f"{_seconds(statistics.median(extra[gate.peer[0]]))} / "
                             f"{_seconds(statistics.median(extra[gate.peer[1]]))}")
            measured += ", median per round"
        status = "PASS" if ratio <= limit else "FAIL"
        results.append(Result(gate, status, (
            f"{status} {gate.label}: {measured} -> {ratio:.3g}; "
            f"baseline {base:.3g} ({source.name}, {where}) + {gate.tolerance:.0%} allows <= {limit:.3g}")))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="check a pytest-benchmark JSON run against the gates")
    c.add_argument("run")
    c.add_argument("--baselines", default=str(BASELINES))
    s = sub.add_parser("compare-args", help="pytest-benchmark options comparing absolute times with the newest "
                                            "baseline of this machine kind (nothing when there is none)")
    s.add_argument("--baselines", default=str(BASELINES))
    b = sub.add_parser("promote", help="copy the newest saved runs of this machine kind from the history into the "
                                       "baselines, replacing the baselines of this machine kind")
    b.add_argument("--history", default=str(BASELINES.parent / "history"))
    b.add_argument("--baselines", default=str(BASELINES))
    b.add_argument("--count", type=int, default=3)
    args = parser.parse_args(argv)

    if args.command == "promote":
        for path in promote(args.history, args.baselines, args.count):
            print(path)
        return 0
    baselines = load_baselines(args.baselines)
    if args.command == "compare-args":
        matching = same_machine(baselines, this_machine_info())
        if matching:
            print(f"--benchmark-compare={matching[-1][0]} --benchmark-compare-fail={ABSOLUTE_FAIL}")
        return 0
    results = check(json.loads(pathlib.Path(args.run).read_text()), baselines)
    for result in results:
        print(result.message)
    failed = [r for r in results if r.status == "FAIL"]
    if failed:
        print(f"latency gate FAILED: {len(failed)} of {len(results)} ratios grew past their tolerance "
              "(see docs/benchmarks.md)")
        return 1
    print(f"latency gate passed ({sum(r.status == 'PASS' for r in results)} checked, "
          f"{sum(r.status == 'SKIP' for r in results)} skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
