#!/usr/bin/env bash
# Set up with every extra, check the C++ core under sanitizers, run the test suite, then (for the
# whole suite only) the latency gate in its quick form (docs/benchmarks.md; the other benchmarks
# run separately, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
source scripts/env.sh
# Headless Chromium for the web page's end-to-end test (Debian's package; skipped if unavailable).
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null 2>&1; } \
    || echo "chromium not installed: the browser test will be skipped"
fi

# The C++ core on its own under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer).
command -v cmake >/dev/null || python3 -m pip install -q cmake ninja
# (python3 is the environment's interpreter here: env.sh put it first on PATH.)
generator=""; command -v ninja >/dev/null && generator="-G Ninja"
cmake -S . -B build/sanitize $generator -DARTRESTORE_SANITIZE=ON -DARTRESTORE_BUILD_TESTS=ON \
  -DARTRESTORE_NATIVE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/sanitize -j 2 >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build/sanitize/core_selftest

# Bounded fuzzing of the core's entry points (atheris); a crash fails the run and leaves its input
# in tests/fuzz/ to be added to the corpus as a regression test.
if python3 -c "import atheris" 2>/dev/null; then
  python3 tests/fuzz/fuzz_core.py -max_total_time="${ARTRESTORE_FUZZ_SECONDS:-30}" -rss_limit_mb=4096 \
    -artifact_prefix=tests/fuzz/ tests/fuzz/corpus 2>&1 | tail -n 2
fi

# The layers (import-linter contracts in pyproject.toml) and the linter (ruff), before the tests.
(cd python && lint-imports ../pyproject.toml)
ruff check python tests benchmarks

python3 -m pytest -q "$@"

# The latency regression gate: ratios measured within one quick run, each with its tolerance.
if [ "$#" -eq 0 ]; then
  bash scripts/bench.sh gate
fi
