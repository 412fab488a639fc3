"""README figures from the demo checkpoint: an attention grid and a
boundary timeline, written to docs/images/ (each kept under 150 KB).

    python tools/make_readme_figures.py
        [--config configs/demo/hman_tsn-pretrained_demo.py]
        [--checkpoint work_dirs/hman_demo/best_*.pth] [--train]
        [--data-root data/synthetic_actions] [--index N] [--out docs/images]

Without ``--checkpoint`` the newest ``best_*.pth`` of the config's demo work
dir is used; ``--train`` runs ``tools/demo.py`` first when there is none.
The video is ``--index`` of the test split or, by default, the first of the
first ``--candidates`` test videos the model classifies correctly (the
script says which, and prints the attention entropy of every candidate
against ``log K``, the entropy of uniform attention).

    python tools/make_readme_figures.py --boundary-dump PKL [--clips 12]
        [--title TEXT] [--prefix hman_hier]

draws ``<prefix>_boundary_raster.png`` instead: layer-1 boundaries of the
first ``--clips`` test clips of a ``tools/test.py --dump`` made with
``--boundaries`` (e.g. a ``tools/benchmark_accuracy.py`` run's
``test_predictions.pkl``) against the ground-truth changes. The program:
:func:`hman_lab.readme_figures.make_readme_figures`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hman_lab.demo import DEMO_CONFIG
from hman_lab.readme_figures import make_readme_figures


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEMO_CONFIG)
    p.add_argument(
        '--checkpoint', help='default: newest best_*.pth in '
        '--work-dir')
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'hman_demo'))
    p.add_argument(
        '--train',
        action='store_true',
        help='run tools/demo.py when there is no checkpoint')
    p.add_argument(
        '--data-root', default=osp.join('data', 'synthetic_actions'))
    p.add_argument('--index', type=int, help='test video index')
    p.add_argument('--candidates', type=int, default=12)
    p.add_argument('--out', default=osp.join('docs', 'images'))
    p.add_argument('--prefix', default='hman_demo')
    p.add_argument('--dpi', type=int, default=80)
    p.add_argument(
        '--boundary-dump',
        help='predictions (tools/test.py --dump, with --boundaries) to '
        'draw a boundary raster from, instead of the demo figures')
    p.add_argument('--clips', type=int, default=12)
    p.add_argument('--title', default=None)
    return p.parse_args(argv)


def main(argv=None):
    return make_readme_figures(parse_args(argv))


if __name__ == '__main__':
    main()
