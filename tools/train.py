"""Train a recognizer with mmaction2's flags, the HM-AN plugin loaded.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.utils import cli


def main(argv=None):
    args = cli.parse(cli.train_parser(), argv)
    runner = cli.build_runner(cli.train_config(args))
    runner.train()
    del runner  # the model (and its process group) goes before the teardown
    cli.finish_distributed()


if __name__ == '__main__':
    main()
