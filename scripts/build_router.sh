#!/usr/bin/env bash
# Regenerate the bundled router from the shared clean images (seed 0): dataset -> features ->
# 40-combination parameter search -> random forest -> thresholds calibrated with the U-Net
# counted. Same data + seed give the same router.npz bytes (tests/test_router.py checks this).
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/data/clean}"
work="${2:-work}"
rm -rf "$work/dataset"
artrestore train data --src "$src" --out "$work/dataset" --per-image 4 --seed 0
artrestore train features --data "$work/dataset" --out "$work/fft_features.csv"
artrestore train search --data "$work/dataset" --out "$work/regression_training_data.csv"
artrestore train router --table "$work/regression_training_data.csv" --out python/artrestore/models/router --seed 0
cp "$work/regression_training_data.csv" python/artrestore/models/router/
artrestore train calibrate --data "$work/dataset" --router python/artrestore/models/router --with-unet
