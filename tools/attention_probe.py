"""What the head gives the backbone, and where the attention looks, on one
batch of freshly rendered clips of the benchmark's flat task.

    python tools/attention_probe.py CONFIG [CONFIG ...] [--checkpoint PTH]
        [--seeds 0 1 2] [--draws 16] [--clips 48]
        [--head-options K=V ...]

For every config and init seed (or for the weights of ``--checkpoint``):

* ``grad``: the backbone gradient of the head's own loss (``loss_cls``,
  nothing else), ``|mean_r g_r|`` over ``--draws`` draws of the head's noise
  (Gumbel samples, dropout) with the weights fixed, and its ratio to the
  backbone gradient of TSN (``configs/demo/tsn_demo.py``, the same
  backbone weights and batch); ``rel_var``: the estimator's variance
  ``mean_r |g_r - g|^2 / |g|^2``;
* ``grad_aux``: the same for ``loss_aux`` (if the config has it);
* ``entropy``: the attention's entropy (``ln 16 = 2.77`` is uniform);
* ``hit``: how often the attended location (the sampled one in training
  mode, ``argmax softmax(e_t)`` for ``hit_argmax``) is the 8x8-pixel cell
  of the target's centre (chance: 1/16).

The program: :func:`hman_lab.accuracy.probes.run_attention_probe`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction

import hman_mmaction  # noqa: F401
from hman_lab.accuracy.probes import run_attention_probe


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--checkpoint', default=None)
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--draws', type=int, default=16)
    p.add_argument('--clips', type=int, default=48)
    p.add_argument('--head-options', nargs='+', action=DictAction, default={})
    return p.parse_args(argv)


def main(argv=None):
    return run_attention_probe(parse_args(argv))


if __name__ == '__main__':
    main()
