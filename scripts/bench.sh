#!/usr/bin/env bash
# Latency tracking with pytest-benchmark (docs/benchmarks.md). The tracked benchmarks are
# benchmarks/test_latency.py and benchmarks/test_latency_unet.py; runs are kept in
# pytest-benchmark's own storage (one JSON per run with machine info and commit).
#
#   bash scripts/bench.sh record   [pytest args]  full run (slow U-Net ones too), saved to benchmarks/history/
#   bash scripts/bench.sh compare  [glob ...]     pytest-benchmark compare over the history
#   bash scripts/bench.sh history                 benchmarks/history/report.md + report.png
#   bash scripts/bench.sh gate     [pytest args]  quick run + regression gate (what CI runs)
#   bash scripts/bench.sh baseline [--count N]    newest N (3) recorded runs of this machine kind
#                                                 become its baselines in benchmarks/baselines/ (commit them)
#
# The gate: ratios within the run (benchmarks/gate.py, tolerances there) and, only when a
# baseline of this machine kind exists, pytest-benchmark's --benchmark-compare-fail on absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

HISTORY=benchmarks/history
BASELINES=benchmarks/baselines
TRACKED=(benchmarks/test_latency.py benchmarks/test_latency_unet.py)
# The quick form: no slow benchmarks, at most 0.5 s of timing per benchmark (the subprocess and
# U-Net ones have fixed rounds: 7 + 1 warm-up each).
QUICK=(-m "not slow" --benchmark-max-time=0.5)
COMMON=(-q -p no:cacheprovider -o addopts= --benchmark-only --benchmark-columns=min,median,rounds
        --benchmark-sort=name)

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  record)
    # --benchmark-compare shows the change against the newest saved run (it warns on the first).
    compare=()
    ls "$HISTORY"/*/0*.json >/dev/null 2>&1 && compare=(--benchmark-compare)
    python3 -m pytest "${TRACKED[@]}" "${COMMON[@]}" --benchmark-storage="file://$HISTORY" \
      --benchmark-autosave "${compare[@]}" "$@"
    ;;
  compare)
    python3 -m pytest_benchmark --storage "file://$HISTORY" compare --group-by=name --sort=name \
      --columns=min,median,rounds "$@"
    ;;
  history)
    python3 benchmarks/history.py --storage "$HISTORY" --out "$HISTORY/report" "$@"
    ;;
  baseline)
    python3 benchmarks/gate.py promote --history "$HISTORY" --baselines "$BASELINES" "$@"
    ;;
  gate)
    run_json="$(mktemp -t artrestore-gate-XXXXXX.json)"
    trap 'rm -f "$run_json"' EXIT
    # Absolute times only against a baseline from this machine kind (CPU model and count, OS, Python).
    read -r -a absolute <<< "$(python3 benchmarks/gate.py compare-args)"
    if [ ${#absolute[@]} -eq 0 ]; then
      echo "latency gate: no baseline of this machine kind in $BASELINES; absolute times are not compared"
    fi
    status=0
    python3 -m pytest "${TRACKED[@]}" "${COMMON[@]}" "${QUICK[@]}" --benchmark-storage="file://$BASELINES" \
      --benchmark-json="$run_json" "${absolute[@]}" "$@" || status=$?
    if [ -s "$run_json" ]; then
      python3 benchmarks/gate.py check "$run_json" || status=1
    else
      echo "latency gate: the benchmark run wrote no results" >&2
      status=1
    fi
    [ "$status" -eq 0 ] || echo "latency gate FAILED (exit $status)" >&2
    exit "$status"
    ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    [ -z "$command" ] || [ "$command" = help ] || [ "$command" = -h ]
    ;;
esac
