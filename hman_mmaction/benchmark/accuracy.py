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
import pickle
from typing import Dict, List, Sequence, Tuple

import torch

from .tables import format_mean_std as percent_mean_std
from .tables import mean_std

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


def markdown_table(rows: List[dict]) -> str:
    """``rows``: dicts with ``name``, ``config`` and per-seed lists
    ``top1``, ``pair_top1``, ``order_acc`` (fractions), ``minutes``."""
    lines = [
        '| model | config | seeds | top-1 % | pair top-1 % | '
        'order acc % (true vs swapped) | train+test min/run |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    for row in rows:
        cells = [percent_mean_std(row[key])
                 for key in ('top1', 'pair_top1', 'order_acc')]
        minutes, _ = mean_std(row['minutes'])
        lines.append(f'| {row["name"]} | `{row["config"]}` | '
                     f'{len(row["top1"])} | ' + ' | '.join(cells) +
                     f' | {minutes:.1f} |')
    return '\n'.join(lines)


def zoo_table(rows: List[dict], segments: int, size: int,
              backbone: str = 'R18-2stage') -> str:
    """The same results as model-zoo rows in mmaction2's column format
    (``configs/README.md``): top-1 and order accuracy as mean ± std."""
    lines = [
        '| frame sampling strategy | resolution | gpus | backbone | '
        'pretrain | top1 acc | order acc | testing protocol | config | '
        'ckpt | log |',
        '| :---: | :---: | :---: | :---: | :---: | :---: | :---: | :---: | '
        ':---: | :---: | :---: |'
    ]
    for row in rows:
        cells = [percent_mean_std(row[key]) for key in ('top1', 'order_acc')]
        lines.append(
            f'| 1x1x{segments} | {size}x{size} | 0 (CPU) | {backbone} + '
            f'{row["name"]} | none | {cells[0]} | {cells[1]} | '
            f'2 clips x 1 crop | [config](../{row["config"]}) | - | - |')
    return '\n'.join(lines)
