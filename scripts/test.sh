#!/usr/bin/env bash
# Set up with every extra, then run the test suite (the benchmarks run separately, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
python3 -m pytest -q "$@"
