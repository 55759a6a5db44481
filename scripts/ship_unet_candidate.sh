#!/usr/bin/env bash
# Ship a U-Net candidate that was judged on validation and chosen to replace the bundled one: the
# mechanical steps, in one order, with the one look at both families' test split last.
#
#   bash scripts/ship_unet_candidate.sh EVAL_FOLDER
#
# EVAL_FOLDER is the OUT_FOLDER of scripts/evaluate_unet_candidate.sh (its model/ holds unet.npz
# and metadata with the holds for one view and eight, both chosen on the validation split). The
# decision to ship is made before this runs (docs/unet_training.md's rule); the look this script
# ends with is reported beside the seen family, gap included, and a model that wins on our damage
# and loses on the check family has lost (revert with `git checkout -- python/artrestore/models/unet
# benchmarks/results docs`). Steps:
#   1. refuse an incomplete candidate (no eight-view hold: soup67's look of 2026-12-06 lacked it)
#      or a tree with uncommitted changes (so the look's files are all this script's);
#   2. copy the weights and metadata into the bundled folder, export ONNX (fp32 and int8; the
#      export's own rule picks the default precision on validation);
#   3. the whole test suite with the candidate in place;
#   4. the look: the routing report (every path, auto, the oracle, both profiles, both families),
#      the line/spot mask evaluation with the per-image test_results.csv, the real-scan sheets.
# Left to a person afterwards: README and docs tables, the GPU table on the lent device
# (benchmarks/gpu_unet.py) and the CPU table (scripts/bench.sh), the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 EVAL_FOLDER" >&2; exit 2; }
model=$1/model
clean=${ARTRESTORE_DATA:-../shared/data}/clean
dest=python/artrestore/models/unet
[ -f "$model/unet.npz" ] || { echo "$model: no unet.npz" >&2; exit 1; }
python3 - "$model/model_metadata.json" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
missing = [k for k in ("change_keep", "hold_choice", "change_keep_x8", "hold_choice_x8") if k not in meta]
if missing:
    sys.exit(f"{sys.argv[1]}: incomplete candidate, no {', '.join(missing)} "
             "(run scripts/evaluate_unet_candidate.sh, which chooses both holds on validation)")
PY
git diff --quiet && git diff --cached --quiet || { echo "uncommitted changes: commit or stash them first" >&2; exit 1; }
step() { echo "== $1"; shift; "$@"; }
step "install the candidate" cp "$model/unet.npz" "$model/model_metadata.json" "$dest/"
step "export ONNX" artrestore train export-onnx --clean "$clean"
step "tests" python3 -m pytest -q -p no:cacheprovider tests
step "the look: routing report" artrestore routing report --out benchmarks/results/routing --clean "$clean"
step "the look: masks" python3 benchmarks/mask_eval.py --clean "$clean" --csv "$dest/test_results.csv"
step "real-scan sheet" python3 benchmarks/real_sheet.py
step "real-scan sheet, one view against eight" python3 benchmarks/real_sheet.py --views
git status --short
echo "done: compare benchmarks/results/routing/routing_report.md with the committed one (git diff)"
