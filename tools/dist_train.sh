#!/usr/bin/env bash
# Distributed training with torchrun (mmengine's `pytorch` launcher).
#   bash tools/dist_train.sh CONFIG NUM_PROCS [train.py flags ...]
# CPU-only machines work too: the plugin initialises gloo instead of NCCL.
# Several nodes: NNODES, NODE_RANK, MASTER_ADDR, PORT (see torchrun.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/torchrun.sh" "$2" "$HERE/train.py" "$1" --launcher pytorch \
    "${@:3}"
