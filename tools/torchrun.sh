#!/usr/bin/env bash
# torchrun (mmengine's `pytorch` launcher) with the node settings taken from
# the environment; dist_train.sh and dist_test.sh start their tool with it.
#   bash tools/torchrun.sh NUM_PROCS SCRIPT [script args ...]
# NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
set -euo pipefail
NPROCS=$1
shift
exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROCS" --master_port="${PORT:-29500}" "$@"
