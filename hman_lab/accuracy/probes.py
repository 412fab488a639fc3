"""Two probes of the accuracy benchmark's flat task.

**Attention probe** (``tools/attention_probe.py``,
:func:`run_attention_probe`): what the head gives the backbone, and where
the attention looks, on one batch of freshly rendered clips. For every
config and init seed (or for the weights of ``--checkpoint``):

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

**Plateau probe** (``tools/plateau_probe.py``, :func:`run_plateau_probe`):
does a from-scratch run leave the initial plateau, and how. The first
``--epochs`` of the end-to-end recipe (the schedule of
``--schedule-epochs``), per seed, ``tools/train.py`` in a subprocess with
one torch thread on the benchmark's data (generated if missing); per seed
the plateau exit (first logged iteration with ``loss_cls < 0.9 ln C``),
``loss_cls`` / ``loss_aux`` / ``att_entropy`` / ``tau_att`` over the first
25 iterations and the last 25 logged, and the mean gradient norm.
"""
import copy
import logging
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint

from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                      class_names,
                                                      render_video,
                                                      target_path)
from ..runs import REPO
from .benchmark import DATA_DEFAULTS, ensure_data, run, task_options, task_spec
from .scores import plateau_exit, schedule_overrides, training_curve

SEGMENTS, GRID = 8, 4
TSN = 'configs/demo/tsn_demo.py'


def make_clips(count, seed=0):
    """``[N, T, 3, 32, 32]`` normalised clips, labels, and the target's
    cell ``[N, T]`` (row-major on the 4x4 feature map)."""
    spec = SyntheticActionSpec(size=32, object_size=4)
    names = class_names(spec)
    rng = np.random.default_rng(seed)
    picked = np.linspace(0, spec.num_frames - 1, SEGMENTS).astype(int)
    frames, labels, cells = [], [], []
    for index in range(count):
        label = index % len(names)
        sequence = names[label].split('-')
        position = target_path(copy.deepcopy(rng), sequence, spec)[0]
        video = render_video(rng, sequence, spec)
        centre = (position[picked] + spec.object_size / 2) % spec.size
        cell = (centre // (spec.size // GRID)).astype(int)
        cells.append(torch.from_numpy(cell[:, 1] * GRID + cell[:, 0]))
        rgb = video[picked][..., ::-1].copy()
        frames.append(torch.from_numpy(rgb).permute(0, 3, 1, 2).float())
        labels.append(label)
    return ((torch.stack(frames) - 127.5) / 127.5, labels, torch.stack(cells))


def build(config, seed, head_options, checkpoint=None, backbone=None):
    cfg = Config.fromfile(config)
    cfg.model.cls_head.update(num_classes=12)
    if 'HMAN' in cfg.model.cls_head.type:
        cfg.model.cls_head.update(num_segments=SEGMENTS)
        cfg.merge_from_dict({
            f'model.cls_head.{k}': v
            for k, v in head_options.items()
        })
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    elif backbone is not None:  # TSN's backbone init, for the comparison
        model.backbone.load_state_dict(backbone.state_dict())
    return model.train()


def backbone_grad(model, inputs, samples, key):
    model.zero_grad()
    losses = model(inputs, samples, mode='loss')
    losses[key].backward()
    return torch.cat([
        p.grad.flatten() for n, p in model.named_parameters()
        if n.startswith('backbone') and p.grad is not None
    ])


def estimator(model, inputs, samples, key, draws):
    grads = torch.stack(
        [backbone_grad(model, inputs, samples, key) for _ in range(draws)])
    mean = grads.mean(0)
    rel_var = (grads - mean).pow(2).sum(1).mean() / mean.pow(2).sum()
    return mean, rel_var.item()


def attention_stats(model, inputs, cells):
    head = model.cls_head
    with torch.no_grad():
        feats = model.extract_feat(inputs)[0]
        out = head.run(feats)
    weights = out.attention.flatten(2)  # [N, T, K]
    probs = out.attention_probs.flatten(2).float()
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
    hit = (weights.argmax(-1) == cells).float().mean()
    hit_argmax = (probs.argmax(-1) == cells).float().mean()
    return entropy.item(), hit.item(), hit_argmax.item()


def run_attention_probe(args):
    """``tools/attention_probe.py``: per seed TSN's backbone gradient, then
    per config the head's (see the module doc), printed."""
    torch.set_num_threads(1)
    register_all_modules()
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    inputs, labels, cells = make_clips(args.clips)
    samples = [ActionDataSample().set_gt_label(label) for label in labels]
    for seed in args.seeds:
        tsn = build(TSN, seed, {})
        g_tsn = backbone_grad(tsn, inputs, samples, 'loss_cls')
        print(f'seed {seed}: TSN |g| {g_tsn.norm():.4f}', flush=True)
        for config in args.configs:
            model = build(config, seed, args.head_options, args.checkpoint,
                          tsn.backbone)
            text = f'  {osp.basename(config)}:'
            keys = ['loss_cls'] + (['loss_aux'] if getattr(
                model.cls_head, 'fc_aux', None) is not None else [])
            for key in keys:
                mean, rel_var = estimator(model, inputs, samples, key,
                                          args.draws)
                text += (f' {key} |g| {mean.norm():.4f} '
                         f'({mean.norm() / g_tsn.norm():.2f} x TSN) rel_var '
                         f'{rel_var:.2f};')
            entropy, hit, hit_argmax = attention_stats(model, inputs, cells)
            print(
                text + f' entropy {entropy:.2f} hit {hit:.3f} hit_argmax '
                f'{hit_argmax:.3f}',
                flush=True)


def window_mean(rows, key, first):
    rows = [r for r in rows if key in r]
    if not rows:
        return None
    picked = [r for r in rows if r['iter'] <= 25] if first else rows[-5:]
    return sum(r[key] for r in picked) / len(picked)


def summary(rows, num_classes):
    out = dict(exit=plateau_exit(rows, num_classes))
    for key in ('loss_cls', 'loss_aux', 'att_entropy', 'tau_att'):
        out[key] = (window_mean(rows, key,
                                True), window_mean(rows, key, False))
    norms = [r['grad_norm'] for r in rows if 'grad_norm' in r]
    out['grad_norm'] = sum(norms) / len(norms) if norms else None
    return out


def fmt(pair):
    return '/'.join('-' if v is None else f'{v:.2f}' for v in pair)


def run_plateau_probe(args):
    """``tools/plateau_probe.py``: the first ``args.epochs`` of
    ``args.config`` per seed on the benchmark's flat task (see the module
    doc), printed."""
    os.chdir(REPO)
    data_root = args.data_root or osp.join(
        'data', 'benchmark_accuracy' +
        (f'_data-seed{args.data_seed}' if args.data_seed else ''))
    data = SimpleNamespace(
        **dict(DATA_DEFAULTS, data_seed=args.data_seed, data_root=data_root))
    spec, segments = task_spec('flat')
    root = ensure_data(data, 'flat', spec)
    num_classes = len(class_names(spec))
    options = task_options(data, root, num_classes, segments)
    # TSN's head takes the frame count at run time
    head_type = Config.fromfile(args.config).model.cls_head.type
    head_segments = ([] if head_type == 'TSNHead' else
                     [f'model.cls_head.num_segments={segments}'])
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    for seed in args.seeds:
        work_dir = osp.join(args.work_dir, name, f'seed{seed}')
        os.makedirs(work_dir, exist_ok=True)
        schedule = schedule_overrides(args.schedule_epochs, log_interval=5)
        schedule[0] = f'train_cfg.max_epochs={args.epochs}'
        schedule[3] = f'default_hooks.checkpoint.interval={args.epochs}'
        command = [
            osp.join('tools', 'train.py'), args.config, '--work-dir', work_dir,
            '--seed',
            str(seed), '--no-validate', '--cfg-options'
        ] + options + head_segments + schedule + args.head_options
        # this checkout's packages, one torch thread
        run(command, osp.join(work_dir, 'train_stdout.log'))
        s = summary(training_curve(work_dir), num_classes)
        print(
            f'{name} seed {seed}: plateau exit {s["exit"]}, loss_cls '
            f'{fmt(s["loss_cls"])}, loss_aux {fmt(s["loss_aux"])}, '
            f'att_entropy {fmt(s["att_entropy"])}, tau_att '
            f'{fmt(s["tau_att"])}, grad_norm {s["grad_norm"]:.2f} '
            '(first 25 iterations / last 25 logged)',
            flush=True)
