#!/usr/bin/env bash
# Make room for training data in a device call: every call carries the git-tracked tree (~60 MB,
# most of it model files the training does not need) and at most 64 MiB in all. `drop` takes the
# large tracked files out of git's index (they stay on disk, ignored through .git/info/exclude),
# so they do not travel; `restore` puts exactly them back. Never commit between the two.
# `drop --with-unet` also leaves the bundled U-Net's weights (10 MB) behind: for calls that train from
# a carried checkpoint (not `bundled`), so that two calls carry all of the training data.
# Usage: bash scripts/device_index.sh drop [--with-unet]|restore|status
set -euo pipefail
cd "$(dirname "$0")/.."
list=.git/artrestore_device_dropped.txt
big=(benchmarks/results docs python/artrestore/models/decision python/artrestore/models/chain_router
     python/artrestore/models/unet/unet_fp32.onnx python/artrestore/models/unet/unet_int8.onnx)
case "${1:-status}" in
  drop)
    case "${2:-}" in
      --with-unet) big+=(python/artrestore/models/unet/unet.npz) ;;
      "") ;;
      *) echo "drop: unknown option ${2}" >&2; exit 2 ;;
    esac
    [ -e "$list" ] && { echo "already dropped; run restore first" >&2; exit 1; }
    git diff --cached --quiet || { echo "the index has staged changes; commit or unstage them first" >&2; exit 1; }
    git ls-files -- "${big[@]}" > "$list"
    git rm -q --cached --pathspec-from-file="$list"
    sed 's|^|/|' "$list" >> .git/info/exclude
    echo "dropped $(wc -l < "$list") files; tracked tree now $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes"
    ;;
  restore)
    [ -e "$list" ] || { echo "nothing dropped" >&2; exit 0; }
    grep -v -x -F -f <(sed 's|^|/|' "$list") .git/info/exclude > "$list.exclude" || true
    mv "$list.exclude" .git/info/exclude
    git add --pathspec-from-file="$list"
    rm "$list"
    git status --short | head
    echo restored
    ;;
  status)
    if [ -e "$list" ]; then echo "dropped: $(wc -l < "$list") files (run restore)"; else echo "nothing dropped"; fi
    ;;
  *) echo "usage: $0 drop [--with-unet]|restore|status" >&2; exit 2 ;;
esac
