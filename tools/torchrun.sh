#!/usr/bin/env bash
# torchrun (mmengine's `pytorch` launcher) with the node settings taken from
# the environment; dist_train.sh and dist_test.sh start their tool with it.
#   bash tools/torchrun.sh NUM_PROCS SCRIPT [script args ...]
# NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
# Python: $PYTHON if set; else `python` of an activated environment
# (VIRTUAL_ENV, CONDA_PREFIX); else the repository's .venv (made by `make`);
# else `python` on PATH.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ] &&
        [ -x "$HERE/../.venv/bin/python" ]; then
        PYTHON="$HERE/../.venv/bin/python"
    else
        PYTHON=python
    fi
fi
NPROCS=$1
shift
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROCS" --master_port="${PORT:-29500}" "$@"
