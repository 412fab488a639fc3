"""The main job on the embedded demo data (``tools/demo.py``, what ``make
demo`` runs; :func:`run_demo`): HM-AN
trained in the paper's regime, a recurrent attention head on a pretrained
CNN (recipe (a), docs/training_recipes.md).

1. generate the order-dependent synthetic actions into
   ``data/synthetic_actions`` if they are not there yet
   (``tools/data/make_synthetic_actions.py``);
2. pretrain the backbone: TSN (``configs/demo/tsn_demo.py``) trained on the
   same videos for ``--backbone-epochs`` (``tools/train.py``);
3. train the HM-AN head on that frozen backbone
   (``configs/demo/hman_tsn-pretrained_demo.py`` with ``load_from``);
4. test the best checkpoint with the multi-view protocol (``tools/test.py
   --dump``) and print top-1 and the order accuracy (true class vs its
   order-swapped twin: ~50 % for an order-blind model such as TSN).

``--backbone-epochs 0`` skips step 2 and 3's ``load_from`` (a config that
trains from scratch, e.g. ``--config configs/hman_demo.py``).

Existing demo data are reused only if they are the data this demo makes
(``meta.json``: generator version, spec, counts, seed), else regenerated.
An interrupted demo resumes its stages: finished ones are reused, a
training stopped mid-way continues from its last checkpoint
(``tools/train.py --resume``); every training stage saves a checkpoint
every epoch. Ctrl-C stops the running stage (started in its own session,
so the terminal's interrupt reaches only the demo, which stops it) and
prints one line saying how to continue. The stages' settings (data, config,
epochs, options) are kept in ``WORK_DIR/demo_stages.json``; after a change
the old work dir is moved aside (``WORK_DIR.stale-<time>``), never mixed.
"""
import glob
import json
import os
import os.path as osp
import sys
import time

from hman_mmaction.datasets.synthetic_actions import (DEMO_COUNTS, DEMO_SEED,
                                                      SyntheticActionSpec,
                                                      config_overrides,
                                                      order_swapped_pairs,
                                                      stale_reason)
from .accuracy.scores import (latest_metrics, load_dump, pair_accuracy,
                              schedule_overrides)
from .runs import REPO, best_checkpoint, run_process

BACKBONE_CONFIG = osp.join('configs', 'demo', 'tsn_demo.py')
DEMO_CONFIG = osp.join('configs', 'demo', 'hman_tsn-pretrained_demo.py')

INTERRUPTED = ('Interrupted: run `make demo` (or this command) again to '
               'continue each stage from its last checkpoint.')


def run(command):
    """Run a stage, its output on this terminal; on Ctrl-C stop it (no
    traceback of its own) and re-raise ``KeyboardInterrupt``."""
    run_process(command, echo=True).check()


def demo_data_reason(root):
    """Why ``root`` does not hold the demo data (what
    ``make_synthetic_actions.py ROOT`` with its defaults makes: spec,
    counts, seed, generator version), or None if it does."""
    return stale_reason(root, SyntheticActionSpec(), DEMO_COUNTS, DEMO_SEED)


def ensure_demo_data(data_root):
    """Reuse the demo data in ``data_root`` if they are the expected ones,
    else (re)generate them."""
    stale = demo_data_reason(osp.join(REPO, data_root))
    if stale is None:
        print(f'demo data found in {data_root} ({sum(DEMO_COUNTS.values())} '
              'videos, the expected spec and seed)')
        return False
    print(f'generating the demo data into {data_root}: {stale}')
    run([
        sys.executable,
        osp.join('tools', 'data', 'make_synthetic_actions.py'), data_root
    ])
    return True


def stage_settings(args):
    """What the stages' outputs depend on: the data's meta.json, the
    config, the epochs and the overrides."""
    with open(osp.join(REPO, args.data_root, 'meta.json')) as f:
        data = json.load(f)
    return dict(
        data=data,
        config=args.config,
        backbone_epochs=args.backbone_epochs,
        epochs=args.epochs,
        cfg_options=list(args.cfg_options))


def prepare_work_dir(args):
    """Keep ``args.work_dir`` if its stages were made with these settings
    (resume them), else move it aside so that nothing stale is reused."""
    work_dir = osp.join(REPO, args.work_dir)
    stamp = osp.join(work_dir, 'demo_stages.json')
    settings = stage_settings(args)
    if osp.isdir(work_dir) and os.listdir(work_dir):
        saved = None
        if osp.isfile(stamp):
            with open(stamp) as f:
                saved = json.load(f)
        if saved == settings:
            print(f'resuming the demo in {args.work_dir} (finished stages '
                  'are reused)')
            return
        aside = f'{work_dir}.stale-{time.strftime("%Y%m%d-%H%M%S")}'
        os.rename(work_dir, aside)
        print(f'{args.work_dir} was made with other data or settings; '
              f'moved it to {osp.relpath(aside, REPO)}')
    os.makedirs(work_dir, exist_ok=True)
    with open(stamp, 'w') as f:
        json.dump(settings, f, indent=1)


def has_checkpoint(work_dir):
    """Whether ``work_dir`` (not its subfolders) holds a training
    checkpoint to resume from."""
    return bool(glob.glob(osp.join(REPO, work_dir, 'epoch_*.pth')))


def demo_stages(args):
    """The stages (see the module doc); returns the test metrics."""
    python = sys.executable
    start = time.time()
    ensure_demo_data(args.data_root)
    prepare_work_dir(args)
    data = ['--cfg-options'] + config_overrides(args.data_root)
    train = [
        python,
        osp.join('tools', 'train.py'), args.config, '--work-dir', args.work_dir
    ]
    if has_checkpoint(args.work_dir):
        print(f'HM-AN training resumes from its last checkpoint in '
              f'{args.work_dir}')
        train += ['--resume'] + data
    else:
        train += data
        if args.backbone_epochs > 0:
            train.append('load_from=' + pretrain_backbone(args, data))
    if args.epochs is not None:
        train += [f'train_cfg.max_epochs={args.epochs}']
    run(train + args.cfg_options)
    checkpoint = best_checkpoint(osp.join(REPO, args.work_dir))
    test_dir = osp.join(args.work_dir, 'test')
    dump = osp.join(test_dir, 'test_predictions.pkl')
    run([
        python,
        osp.join('tools', 'test.py'), args.config, checkpoint, '--work-dir',
        test_dir, '--dump', dump
    ] + data + args.cfg_options)
    metrics = latest_metrics(osp.join(REPO, test_dir))
    with open(osp.join(REPO, args.data_root, 'classnames.txt')) as f:
        names = [line.strip() for line in f if line.strip()]
    num_classes = len(names)
    pairs = pair_accuracy(*load_dump(osp.join(REPO, dump)),
                          order_swapped_pairs(names))
    top1 = metrics.get('acc/top1')
    if top1 is None:
        raise KeyError(f'no acc/top1 in the test metrics under {test_dir}: '
                       f'{sorted(metrics)}')
    print('\n' + '=' * 64)
    print(f'HM-AN demo: test top-1 = {100 * top1:.1f}% '
          f'(chance {100 / num_classes:.1f}%, {num_classes} classes), '
          f'top-5 = {100 * metrics.get("acc/top5", float("nan")):.1f}%')
    print(f'order accuracy = {100 * pairs["order_acc"]:.1f}% (true class '
          'vs its order-swapped twin; an order-blind model gets ~50%)')
    print(f'checkpoint: {osp.relpath(checkpoint, REPO)}')
    print(f'total time: {(time.time() - start) / 60:.1f} min')
    print('=' * 64)
    return metrics


def pretrain_backbone(args, data):
    """Train the demo's TSN (the backbone HM-AN reuses) unless its last
    checkpoint exists; returns that checkpoint."""
    work_dir = osp.join(args.work_dir, 'tsn_backbone')
    checkpoint = osp.join(work_dir, f'epoch_{args.backbone_epochs}.pth')
    if osp.isfile(osp.join(REPO, checkpoint)):
        print(f'pretrained backbone found: {checkpoint} (delete it to '
              'retrain)')
        return checkpoint
    resume = ['--resume'] if has_checkpoint(work_dir) else []
    if resume:
        print(f'TSN pretraining resumes from its last checkpoint in '
              f'{work_dir}')
    run([
        sys.executable,
        osp.join('tools', 'train.py'), BACKBONE_CONFIG, '--work-dir', work_dir,
        '--no-validate'
    ] + resume + data + schedule_overrides(args.backbone_epochs) +
        ['default_hooks.checkpoint.interval=1'])  # Ctrl-C loses < 1 epoch
    return checkpoint


def run_demo(args):
    """``tools/demo.py``: :func:`demo_stages` from the repository root;
    Ctrl-C ends with one line saying how to continue."""
    os.chdir(REPO)
    try:
        return demo_stages(args)
    except KeyboardInterrupt:
        sys.exit('\n' + INTERRUPTED)
