#!/usr/bin/env bash
# Install what artrestore needs on a fresh Debian/Ubuntu machine into a Python environment
# (see scripts/env.sh for which one: .venv/ unless you already run inside one): single-precision
# FFTW (system package, only if pkg-config cannot find it) and the package itself, editable, with
# the extras given as the argument (e.g. `bash scripts/setup.sh dl,serve,test`; `core` = none).
# A second run with nothing changed installs nothing: a stamp records the inputs of the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dl}"
source scripts/env.sh

if ! pkg-config --exists fftw3f 2>/dev/null; then
  echo "== installing FFTW (libfftw3-dev) and pkg-config with apt-get"
  _artrestore_sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive _artrestore_sudo apt-get install -y -qq libfftw3-dev pkg-config >/dev/null
fi

# Byte-compile the package (pip does it for a regular install, not for an editable one): where
# PYTHONDONTWRITEBYTECODE is set, every start would otherwise compile each module again (about 25 ms
# of the first image's CPU time). Up-to-date files are skipped.
"$ARTRESTORE_PY" -m compileall -q python/artrestore >/dev/null \
  || echo "== byte-compiling python/artrestore failed (read-only checkout?); modules compile at each start"

# The stamp: interpreter, extras and every file the build reads. Python sources' contents are not
# in it (the editable install serves them from python/ directly) but their names are: the editable
# install maps each module to its file, so a module added, moved or removed needs a reinstall.
stamp_dir="build/setup-stamps"
stamp_key="$(printf '%s' "$ARTRESTORE_PY" | sha256sum | cut -c1-16)"
stamp_file="$stamp_dir/$stamp_key"
inputs="$( { echo "$ARTRESTORE_PY $extras"; "$ARTRESTORE_PY" -c 'import sys; print(sys.version)';
             find pyproject.toml CMakeLists.txt cpp python/bindings.cpp serving/protos serving/gen_protos.py \
               -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum;
             find python/artrestore -name '*.py' -not -path '*/_proto/*' | LC_ALL=C sort; } | sha256sum | cut -c1-64)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$inputs" ] \
   && "$ARTRESTORE_PY" -c "import artrestore._core" >/dev/null 2>&1; then
  echo "== artrestore already installed in $(dirname "$(dirname "$ARTRESTORE_PY")") (nothing changed)"
  exit 0
fi

spec="."
[ "$extras" != "core" ] && spec=".[$extras]"
echo "== pip install -e $spec into $("$ARTRESTORE_PY" -c 'import sys; print(sys.prefix)')"
"$ARTRESTORE_PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$ARTRESTORE_PY" -m pip install -q -e "$spec"
mkdir -p "$stamp_dir"
echo "$inputs" > "$stamp_file"
