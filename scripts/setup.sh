#!/usr/bin/env bash
# Install what artrestore needs on a fresh Debian/Ubuntu machine: single-precision FFTW (system
# package, only if pkg-config cannot find it) and the package itself, editable, with the extras
# given as arguments (e.g. `bash scripts/setup.sh dl,serve,test`).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dl}"
if ! pkg-config --exists fftw3f 2>/dev/null; then
  echo "== installing FFTW (libfftw3-dev) and pkg-config with apt-get"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libfftw3-dev pkg-config >/dev/null
fi
echo "== pip install -e .[$extras]"
python3 -m pip install -q --upgrade pip >/dev/null 2>&1 || true
python3 -m pip install -q -e ".[$extras]"
