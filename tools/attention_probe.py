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
"""
import argparse
import copy
import logging
import os.path as osp
import sys

import numpy as np
import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(HERE))

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint

import hman_mmaction  # noqa: F401
from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                      class_names,
                                                      render_video,
                                                      target_path)

SEGMENTS, GRID = 8, 4
TSN = 'configs/demo/tsn_demo.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--checkpoint', default=None)
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--draws', type=int, default=16)
    p.add_argument('--clips', type=int, default=48)
    p.add_argument('--head-options', nargs='+', action=DictAction, default={})
    return p.parse_args(argv)


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


def main(argv=None):
    args = parse_args(argv)
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


if __name__ == '__main__':
    main()
