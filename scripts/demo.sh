#!/usr/bin/env bash
# The main job: set up (into .venv/ unless an environment is active, see scripts/env.sh), then
# restore the bundled sample images with the embedded defaults (bundled router + U-Net, in-process
# inference, no server) and write the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dl
source scripts/env.sh
artrestore demo --out "${1:-artrestore-demo}"
