"""Scores of the accuracy benchmark on the order-dependent synthetic actions.

For test predictions ``scores`` ``[N, num_classes]`` and labels ``[N]``:

* ``top1``: mean of ``argmax scores == label``;
* ``pair_top1``: the same over the samples whose class belongs to an
  order-swapped pair (``up-left`` / ``left-up``, see
  :func:`hman_mmaction.datasets.synthetic_actions.order_swapped_pairs`);
* ``order_acc``: over those samples, how often the true class scores higher
  than its order-swapped twin (``scores[label] > scores[twin]``). A model
  blind to frame order (TSN's mean over frames) is near 50% here whatever
  its top-1, so this isolates the use of temporal order.
"""
import glob
import json
import math
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from ..tables import format_mean_std as percent_mean_std
from ..tables import mean_std

Pairs = Sequence[Tuple[int, int]]


def twin_index(pairs: Pairs, num_classes: int) -> torch.Tensor:
    """``twin[c]`` = the order-swapped class of ``c`` or -1."""
    twin = torch.full((num_classes, ), -1, dtype=torch.long)
    for a, b in pairs:
        if twin[a] >= 0 or twin[b] >= 0:
            raise ValueError(f'class {a} or {b} is in two swapped pairs')
        twin[a], twin[b] = b, a
    return twin


def pair_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                  pairs: Pairs) -> Dict[str, float]:
    """``top1``, ``pair_top1``, ``order_acc`` (see the module doc) and the
    sample counts; NaN where no sample is in a pair."""
    scores = torch.as_tensor(scores, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if scores.dim() != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f'scores must be [N, num_classes] and labels [N], '
                         f'got {tuple(scores.shape)} and '
                         f'{tuple(labels.shape)}')
    correct = scores.argmax(1) == labels
    twin = twin_index(pairs, scores.shape[1])[labels]
    in_pair = twin >= 0
    rows = torch.arange(len(labels))[in_pair]
    true_score = scores[rows, labels[in_pair]]
    twin_score = scores[rows, twin[in_pair]]
    count = int(in_pair.sum())
    nan = float('nan')
    return dict(
        top1=correct.double().mean().item() if len(labels) else nan,
        pair_top1=correct[in_pair].double().mean().item() if count else nan,
        order_acc=((true_score > twin_score).double().mean().item()
                   if count else nan),
        num_samples=len(labels),
        num_pair_samples=count)


def load_dump(path: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(scores [N, C], labels [N])`` from ``tools/test.py --dump``."""
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not results:
        raise ValueError(f'{path} holds no predictions')
    scores = torch.stack(
        [torch.as_tensor(r['pred_score']).float() for r in results])
    labels = torch.stack(
        [torch.as_tensor(r['gt_label']).reshape(-1)[0] for r in results])
    return scores, labels.long()


def schedule_overrides(epochs: int,
                       log_interval: Optional[int] = None) -> List[str]:
    """``--cfg-options`` that train a demo-family config (``param_scheduler``
    = warm-up, cosine decay as in ``configs/hman_demo.py``) for ``epochs``
    with the decay over them and one checkpoint, ``epoch_<epochs>.pth``, at
    the end; ``log_interval`` sets the logger's (default: the config's)."""
    options = [
        f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.1.T_max={epochs}',
        f'param_scheduler.1.end={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        'default_hooks.checkpoint.save_best=None',
    ]
    if log_interval is not None:
        options.append(f'default_hooks.logger.interval={log_interval}')
    return options


def latest_metrics(test_dir: str) -> Dict[str, float]:
    """The metrics ``tools/test.py`` wrote as
    ``<test_dir>/<timestamp>/<timestamp>.json`` (the newest run)."""
    found = sorted(
        glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no metrics json under {test_dir}')
    with open(found[-1]) as f:
        return json.loads(f.readlines()[-1])


def boundary_layers(metrics: Dict[str, float]) -> List[dict]:
    """Per layer ``{layer, rate, precision, recall, f1, exact_f1,
    random_precision, random_recall, random_f1, prior_f1}`` from the
    ``boundary/l<k>_*`` keys of
    :class:`~hman_mmaction.evaluation.BoundaryMetric`."""
    layers = []
    layer = 1
    while f'boundary/l{layer}_f1' in metrics:
        entry = dict(layer=layer)
        for key in ('rate', 'precision', 'recall', 'f1', 'random_precision',
                    'random_recall', 'random_f1'):
            entry[key] = float(metrics[f'boundary/l{layer}_{key}'])
        for key in ('exact_f1', 'prior_f1'):  # absent in older metrics
            if f'boundary/l{layer}_{key}' in metrics:
                entry[key] = float(metrics[f'boundary/l{layer}_{key}'])
        layers.append(entry)
        layer += 1
    return layers


#: the AttentionMetric scores the benchmarks report, each next to the
#: value of uniform attention (``<key>_uniform``)
ATTENTION_SCORES = ('pointing', 'mass_target', 'mass_per_distractor')


def attention_summary(metrics: Dict[str, float]) -> Optional[dict]:
    """The ``attention/*`` scores of
    :class:`~hman_mmaction.evaluation.AttentionMetric` without the prefix
    (step-index keys dropped), or None when the run has none."""
    prefix = 'attention/'
    found = {
        k[len(prefix):]: float(v)
        for k, v in metrics.items()
        if k.startswith(prefix) and not re.match(r't\d+_', k[len(prefix):])
    }
    return found or None


def attention_cells(runs: List[dict]) -> List[str]:
    """Per :data:`ATTENTION_SCORES` key ``'m ± s (u)'`` in percent over the
    runs' ``attention`` summaries, ``u`` the mean value of uniform
    attention; '—' where no run was scored."""
    scored = [r['attention'] for r in runs if r.get('attention')]
    cells = []
    for key in ATTENTION_SCORES:
        values = [a[key] for a in scored if key in a]
        if not values:
            cells.append('—')
            continue
        uniform = mean_std([a[f'{key}_uniform'] for a in scored])[0]
        mean, std = mean_std(values)
        spread = '' if math.isnan(std) else f' ± {100 * std:.0f}'
        cells.append(f'{100 * mean:.0f}{spread} ({100 * uniform:.0f})')
    return cells


ATTENTION_HEADERS = ('attention pointing % (uniform)',
                     'attention on target % (uniform)',
                     'attention per distractor % (uniform)')


def training_curve(work_dir):
    """Rows of mmengine's ``scalars.json`` of the run in ``work_dir``."""
    found = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no scalars.json under {work_dir}')
    with open(found[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def plateau_exit(rows, num_classes):
    """First logged iteration whose ``loss_cls`` is below ``0.9 ln C``
    (None if the loss never got there)."""
    threshold = 0.9 * math.log(num_classes)
    for row in rows:
        if row.get('loss_cls', math.inf) < threshold:
            return row.get('iter', row.get('step'))
    return None


def train_rates(rows, tail=5):
    """Mean of each logged ``bnd_rate_l<k>`` over the last ``tail``
    windows."""
    rows = [r for r in rows if 'loss_cls' in r][-tail:]
    keys = sorted({k for r in rows for k in r if k.startswith('bnd_rate')})
    return {
        k: sum(r[k] for r in rows if k in r) / max(1, sum(k in r
                                                          for r in rows))
        for k in keys
    }


def _seeds_cell(values) -> str:
    """Per-seed values joined by '/', '—' for None."""
    return '/'.join('—' if v is None else str(v) for v in values)


def _rate_cell(runs, key, layer) -> str:
    values = [r[key].get(layer) for r in runs if r.get(key)]
    values = [v for v in values if v is not None]
    if not values:
        return '—'
    return percent_mean_std(values, percent=False, digits=2)


def boundary_cells(runs: List[dict], layer: int) -> List[str]:
    """Train rate, test rate, P / R / F1, the exact F1 (tolerance 0 at the
    timing's step), the rate-matched random F1 and the timing prior's F1 of
    layer ``layer`` (numbered from 1) over ``runs``; '—' where the model has
    no detector there, and for the train rate of a detector that is not
    learned (oracle, random: their test columns are shown)."""
    train = _rate_cell(runs, 'train_rates', f'bnd_rate_l{layer}')
    scored = []
    for run in runs:
        for entry in (run.get('boundaries') or {}).get('layers', []):
            if entry['layer'] == layer:
                scored.append(entry)
    if not scored or (train == '—' and not any(e['rate'] > 0 for e in scored)):
        return [train, '—', '—', '—', '—', '—']
    test_rate = percent_mean_std([e['rate'] for e in scored],
                                 percent=False,
                                 digits=2)
    prf = [
        mean_std([e[k] for e in scored]) for k in ('precision', 'recall', 'f1')
    ]
    random_f1 = mean_std([e['random_f1'] for e in scored])
    margin = mean_std([e['f1'] - e['random_f1'] for e in scored])
    exact, prior = ([e[key] for e in scored if key in e]
                    for key in ('exact_f1', 'prior_f1'))
    return [
        train, test_rate,
        ' / '.join(f'{100 * m:.0f}'
                   for m, _ in prf) + f' (F1 ± {100 * prf[2][1]:.0f})',
        _percent_cell(exact),
        f'{100 * random_f1[0]:.0f} (F1 margin {100 * margin[0]:+.0f} ± '
        f'{100 * margin[1]:.0f})',
        _percent_cell(prior)
    ]


def _percent_cell(values) -> str:
    """Mean of ``values`` in whole percent; '—' where there is none."""
    return f'{100 * mean_std(values)[0]:.0f}' if values else '—'


def results_table(results: List[dict], args, settings: dict) -> str:
    """One markdown table per (task, recipe): per model the mean ± std over
    seeds of top-1 and order accuracy, the per-seed plateau exits, the
    boundary columns of layer 1 and the attention columns
    (:func:`attention_cells`)."""
    text = []
    header = ('| model | seeds | top-1 % | order acc % | plateau exit (iter, '
              'per seed) | layer-1 rate train | layer-1 rate test | '
              'layer-1 boundary P / R / F1 % | exact F1 % | random '
              'detector F1 % | timing prior F1 % | ' +
              ' | '.join(ATTENTION_HEADERS) + ' |')
    for task, setting in settings.items():
        for recipe in dict.fromkeys(r['recipe'] for r in results
                                    if r['task'] == task):
            runs = [
                r for r in results
                if r['task'] == task and r['recipe'] == recipe
            ]
            epochs = runs[0]['epochs']
            text.append(
                f'**{task} task, {recipe} recipe** ({setting["classes"]} '
                f'classes, {setting["pairs"]} order-swapped pairs, '
                f'{setting["segments"]} sampled steps; {epochs} epochs' +
                (', heads on the frozen features of a TSN trained '
                 f'{args.pretrain_epochs} epochs on the same videos' +
                 _head_videos(args) if recipe ==
                 'pretrained' else ', end to end from scratch') + ')\n')
            text.append(header)
            text.append('|---' + '|---:' * (10 + len(ATTENTION_HEADERS)) + '|')
            for model in dict.fromkeys(r['model'] for r in runs):
                mine = [r for r in runs if r['model'] == model]
                cells = [
                    percent_mean_std([r[k] for r in mine])
                    for k in ('top1', 'order_acc')
                ]
                cells.append(_seeds_cell([r['plateau_exit'] for r in mine]))
                cells += boundary_cells(mine, 1)
                cells += attention_cells(mine)
                text.append(f'| {mine[0]["name"]} | {len(mine)} | ' +
                            ' | '.join(cells) + ' |')
            text.append('')
    return '\n'.join(text)


def _head_videos(args) -> str:
    videos = getattr(args, 'head_train_videos', None)
    train = getattr(args, 'train', None)
    if videos:
        return f'; heads trained on {videos} of the {train} training videos'
    return f'; {train} training videos' if train else ''


def zoo_table(results: List[dict],
              models: dict,
              size: int = 32,
              backbone: str = 'R18-2stage') -> str:
    """The pretrained-recipe results as model-zoo rows in mmaction2's
    column format (``configs/README.md``): top-1 and order accuracy as
    mean ± std over seeds."""
    lines = [
        '| frame sampling strategy | resolution | gpus | backbone | '
        'pretrain | top1 acc | order acc | testing protocol | config | '
        'ckpt | log |',
        '| :---: | :---: | :---: | :---: | :---: | :---: | :---: | :---: | '
        ':---: | :---: | :---: |'
    ]
    for model in dict.fromkeys(r['model'] for r in results):
        mine = [r for r in results if r['model'] == model]
        cells = [
            percent_mean_std([r[k] for r in mine])
            for k in ('top1', 'order_acc')
        ]
        segments = mine[0].get('segments', 8)
        lines.append(
            f'| 1x1x{segments} | {size}x{size} | 0 (CPU) | {backbone} + '
            f'{models[model][0]} | TSN on the same videos (frozen) | '
            f'{cells[0]} | {cells[1]} | 2 clips x 1 crop | '
            f'[config](../{mine[0]["config"]}) | - | - |')
    return '\n'.join(lines)
