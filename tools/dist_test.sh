#!/usr/bin/env bash
# Distributed testing with torchrun (mmengine's `pytorch` launcher).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py flags ...]
# Several nodes: NNODES, NODE_RANK, MASTER_ADDR, PORT (see torchrun.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/torchrun.sh" "$3" "$HERE/test.py" "$1" "$2" \
    --launcher pytorch "${@:4}"
