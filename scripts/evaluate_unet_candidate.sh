#!/usr/bin/env bash
# Judge a U-Net trained on the lent GPU by the rule fixed before (docs/unet_training.md): its own
# hold chosen on the broad and proxy validation images, then both training-side families and the
# proxy family with that hold, then (reported beside, never used to choose) the held-out crops of the
# third and fourth collections.
# The check family is not touched here. CPU only; about 40 minutes on 2 cores (25 of them the
# one-view hold), and about 30 more for the eight-view hold, chosen only when the candidate passes
# the rule (benchmarks/unet_candidate_rule.py -> rule.json; ALWAYS_X8=1 chooses it anyway).
#
#   bash scripts/evaluate_unet_candidate.sh RUN_FOLDER OUT_FOLDER
#
# RUN_FOLDER (unet.npz + model_metadata.json, as a device call returns it) is copied to
# OUT_FOLDER/model and left as it is, so it can be carried to the next call unchanged.
# OUT_FOLDER gets the ONNX export, unet_hold_draws4.json and (when the rule passes)
# unet_hold_draws4_x8.json (the holds for one view and eight), family_hold_{broad,legacy,proxy}.json, pack{3,4}_val_extra.json (against
# the bundled U-Net), gains_vs_run10.json (paired gains over run 10 on the three families with their
# standard error over sources), rule.json (the rule's verdict) and one log per step.
# The reference: run 10 with its shipped two-family hold, benchmarks/results/unet_runs/run10_two_family_hold/
# (with the one-family do-no-harm hold: run10_no_harm_hold/; with the former hold:
# not_shipped_two_families/family_hold_*_run10.json).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 RUN_FOLDER OUT_FOLDER" >&2; exit 2; }
run=$1; out=$2
[ -f "$run/unet.npz" ] || { echo "$run: no unet.npz" >&2; exit 1; }
[ -e "$out" ] && { echo "$out exists; not overwritten" >&2; exit 1; }
clean=${ARTRESTORE_DATA:-../shared/data}/clean
mkdir -p "$out" && cp -r "$run" "$out/model"
model=$out/model
step() { local name=$1; shift; echo "$name"; "$@" > "$out/$name.log" 2>&1 || { tail -5 "$out/$name.log"; exit 1; }; }
step export artrestore train export-onnx --model-dir "$model" --clean "$clean" --no-int8 --val-limit 8
# The holds by the rule the shipped U-Net's were chosen by (no_harm since 2026-12-07; HOLD_RULE=keep_all
# for the former one), so a candidate and the reference are held the same way.
rule=${HOLD_RULE:-no_harm}
# The shipped U-Net's holds are chosen on the broad and the proxy family since 2026-12-07 night
# (HOLD_FAMILIES="broad" for the one-family rule, against the reference of that rule:
# REFERENCE=benchmarks/results/unet_runs/run10_no_harm_hold).
families=()
for family in ${HOLD_FAMILIES:-broad proxy}; do families+=(--family "$family"); done
reference=${REFERENCE:-benchmarks/results/unet_runs/run10_two_family_hold}
step hold python -m artrestore.training.unet_hold --clean "$clean" --unet "$model" --draws 4 --rule "$rule" \
  "${families[@]}" --out "$out/unet_hold_draws4.json" --write-metadata
for family in broad legacy proxy; do
  step "family_$family" python benchmarks/unet_family_hold.py --clean "$clean" --unet "$model" --family "$family" \
    --draws 4 --out "$out/family_hold_$family.json"
done
for pack in pack3 pack4; do
  [ -d ".devdata/$pack/val_extra" ] || { echo "no .devdata/$pack/val_extra: skipped"; continue; }
  step "${pack}_val_extra" python benchmarks/unet_on_extra_val.py --extra ".devdata/$pack/val_extra" --unet bundled \
    --unet "$model" --out "$out/${pack}_val_extra.json"
done
extra=()
for pack in pack3 pack4; do [ -f "$out/${pack}_val_extra.json" ] && extra+=(--extra-report "$out/${pack}_val_extra.json"); done
step gains_vs_run10 python benchmarks/unet_candidate_gains.py --candidate "$out" \
  --reference "$reference" \
  "${extra[@]}" --out "$out/gains_vs_run10.json"
cat "$out/gains_vs_run10.log"
# The rule (docs/unet_training.md), applied by a tool: a candidate that fails it is not looked at,
# and its eight-view hold (about 30 minutes here) is not worth choosing.
verdict=0
python benchmarks/unet_candidate_rule.py --gains "$out/gains_vs_run10.json" --out "$out/rule.json" || verdict=$?
# 3 is a failed rule; any other non-zero status is the tool breaking, which must stop the script.
[ "$verdict" -eq 0 ] || [ "$verdict" -eq 3 ] || exit "$verdict"
if [ "$verdict" -eq 0 ] || [ "${ALWAYS_X8:-0}" = 1 ]; then
  # The eight-view hold too (the accelerated profile's), so a candidate is complete before any look
  # at a test split: soup67's look lacked it.
  step hold_x8 python -m artrestore.training.unet_hold --clean "$clean" --unet "$model" --draws 4 --views 8 --rule "$rule" \
    "${families[@]}" --out "$out/unet_hold_draws4_x8.json" --write-metadata
fi
echo "done: $out"
