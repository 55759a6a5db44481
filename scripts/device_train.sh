#!/usr/bin/env bash
# One U-Net training run per device call, with run 10's data and settings written once here, so a
# call's command (at most 2000 characters) is one line. Runs on the lent GPU machine, in the copy of
# the repository a call gets (docs/unet_training.md, "Running a schedule on the lent GPU").
#
#   bash scripts/device_train.sh stage                  # install the carried wheels, copy the carried .devdata folders
#   bash scripts/device_train.sh run NAME INIT MINUTES LEARNING_RATE SEED [extra trainer options...]
#
# `stage` copies every carried `.devdata/<folder>` to /tmp/stage (call it in each call that carries
# folders), and a later collection's training folders `.devdata/packN/extra_K` to
# /tmp/stage/extra_packN_K (carry `.devdata/packN/extra_K` alone: its held-out part stays here). `run` trains /tmp/runs/NAME from INIT (a model folder: `bundled` = the shipped U-Net, or
# an earlier NAME), with a cosine schedule over MINUTES of fitting (a 600 s call holds at most 5: the
# loading, JIT compilation and validation take about 3.5 minutes beyond it), and copies the log, the
# metadata and the model folder to $OUT (NAME.log, NAME_metadata.json, NAME/). Extra options go to
# `artrestore train unet-broad` (for example `--train-only detector`, `--detector-filters 16,24,32,48`).
# ARTRESTORE_COMMIT: the commit that trains (the device's copy has no .git). DRY_RUN=1 prints the
# trainer's command instead of running it.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=${STAGE:-/tmp/stage}  # overridable for tests
RUNS=${RUNS:-/tmp/runs}
DEVDATA=${DEVDATA:-.devdata}  # the carried data folders (overridable for tests)
WHEELS=${WHEELS:-.whl}        # the carried wheels
# Run 10's data and settings (docs/unet_training.md, runs 8-10).
COMMON=(--val-variants 4 --clean-fraction 0.3 --severity-weights 0.45,0.3,0.25 --variants 3
        --batch-size 16 --steps-per-epoch 400 --loss mse_ssim --mask-weight 0.5 --lr-schedule cosine)

case "${1:-}" in
  stage)
    if compgen -G "$WHEELS/*.whl" > /dev/null; then python3 -m pip install -q --no-deps "$WHEELS"/*.whl; fi
    mkdir -p "$STAGE" "$RUNS"
    for folder in "$DEVDATA"/*/; do
      case "$(basename "$folder")" in
        pack*) ;;  # a later collection's pack: only its training folders, below
        *) [ -d "$folder" ] && cp -r "$folder" "$STAGE/" ;;
      esac
    done
    # .devdata/pack3/extra_0 -> $STAGE/extra_pack3_0: trained on with the rest (run takes every extra_*).
    # Staging adds to what earlier calls of the lease staged, by design: a 64 MiB call cannot carry
    # every folder, so the folders arrive over several calls and the last one trains on all of them.
    for folder in "$DEVDATA"/pack*/extra_*/; do
      [ -d "$folder" ] || continue
      name=extra_$(basename "$(dirname "$folder")")_$(basename "$folder" | sed 's/^extra_//')
      rm -rf "${STAGE:?}/$name"
      cp -r "$folder" "$STAGE/$name"
    done
    ls "$STAGE"
    ;;
  run)
    [ $# -ge 6 ] || { echo "usage: $0 run NAME INIT MINUTES LEARNING_RATE SEED [options...]" >&2; exit 2; }
    name=$2; init=$3; minutes=$4; rate=$5; seed=$6; shift 6
    case "$init" in
      bundled) init=python/artrestore/models/unet ;;
      */*) ;;
      *) init=$RUNS/$init ;;
    esac
    train=()
    for folder in "$STAGE"/clean_train "$STAGE"/extra_*; do
      [ -d "$folder" ] && train+=(--train "$folder")
    done
    [ -d "$STAGE/clean_val" ] || { echo "no $STAGE/clean_val: run '$0 stage' in a call that carries it" >&2; exit 1; }
    command=(python3 -m artrestore.cli train unet-broad "${train[@]}" --val "$STAGE/clean_val" --init "$init"
             --out "$RUNS/$name" --minutes "$minutes" --learning-rate "$rate" --seed "$seed" "${COMMON[@]}"
             --notes "$name: from $(basename "$init"), $minutes min at $rate $*" "$@")
    if [ "${DRY_RUN:-0}" = 1 ]; then printf '%q ' "${command[@]}"; echo; exit 0; fi
    out=${OUT:?OUT must name the output folder of the device call}
    export KERAS_BACKEND=jax PYTHONPATH=python PYTHONUNBUFFERED=1
    "${command[@]}" > "$out/$name.log" 2>&1 || { tail -20 "$out/$name.log"; exit 1; }
    cp "$RUNS/$name/model_metadata.json" "$out/${name}_metadata.json"
    mkdir -p "$out/$name" && cp "$RUNS/$name"/* "$out/$name/"
    tail -3 "$out/$name.log"
    ;;
  *) echo "usage: $0 stage | run NAME INIT MINUTES LEARNING_RATE SEED [options...]" >&2; exit 2 ;;
esac
