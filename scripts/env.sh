# Sourced by setup.sh, demo.sh, test.sh and bench scripts: choose the Python environment that
# artrestore is installed into and put it first on PATH. Never installs into an externally
# managed interpreter (PEP 668): outside an environment it makes (or reuses) .venv/.
#
# Choice, first that applies:
#   1. ARTRESTORE_PYTHON=/path/to/python   an interpreter picked explicitly (used as is)
#   2. an active environment: VIRTUAL_ENV, or conda's CONDA_PREFIX (not conda's "base")
#   3. .venv/ at the repository root, created with `python3 -m venv` when missing
# Exports ARTRESTORE_PY (the interpreter) and prepends its bin/ to PATH.

_artrestore_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_artrestore_sudo() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

if [ -n "${ARTRESTORE_PYTHON:-}" ]; then
  ARTRESTORE_PY="$ARTRESTORE_PYTHON"
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
  ARTRESTORE_PY="$VIRTUAL_ENV/bin/python"
elif [ -n "${CONDA_PREFIX:-}" ] && [ "${CONDA_DEFAULT_ENV:-}" != "base" ] && [ -x "$CONDA_PREFIX/bin/python" ]; then
  ARTRESTORE_PY="$CONDA_PREFIX/bin/python"
else
  _venv="$_artrestore_root/.venv"
  if [ ! -x "$_venv/bin/python" ] || ! "$_venv/bin/python" -m pip --version >/dev/null 2>&1; then
    _base="$(command -v python3 || true)"
    if [ -z "$_base" ]; then
      echo "artrestore setup: no python3 on PATH; install Python 3.10-3.12 (Debian: apt-get install python3)" >&2
      return 1 2>/dev/null || exit 1
    fi
    rm -rf "$_venv"
    if ! "$_base" -m venv "$_venv" >/dev/null 2>&1; then
      # Debian/Ubuntu ship venv and ensurepip separately from python3.
      if command -v apt-get >/dev/null; then
        echo "== installing python3-venv with apt-get (needed to make .venv)"
        _artrestore_sudo apt-get update -qq
        _pyver="$("$_base" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        DEBIAN_FRONTEND=noninteractive _artrestore_sudo apt-get install -y -qq python3-venv python3-pip >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive _artrestore_sudo apt-get install -y -qq "python${_pyver}-venv" >/dev/null 2>&1 || true
        rm -rf "$_venv"
      fi
      "$_base" -m venv "$_venv" || {
        echo "artrestore setup: '$_base -m venv' failed; install your distribution's venv package" >&2
        return 1 2>/dev/null || exit 1
      }
    fi
    echo "== made virtual environment $_venv (from $_base)"
  fi
  ARTRESTORE_PY="$_venv/bin/python"
fi
export ARTRESTORE_PY
PATH="$(dirname "$ARTRESTORE_PY"):$PATH"
export PATH
