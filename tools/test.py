"""Test a checkpoint with mmaction2's flags and multi-view protocol.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump OUT.pkl]
        [--boundaries]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.utils import cli


def main(argv=None):
    args = cli.parse(cli.test_parser(), argv)
    runner = cli.build_runner(cli.test_config(args))
    runner.test()
    del runner  # the model (and its process group) goes before the teardown
    cli.finish_distributed()


if __name__ == '__main__':
    main()
