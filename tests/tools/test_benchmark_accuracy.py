"""tools/benchmark_accuracy.py: the pair scores on hand-made predictions and
one tiny end-to-end run (train + test subprocesses, table and json)."""
import json
import math

import pytest
import torch

from hman_mmaction.benchmark.accuracy import (markdown_table, mean_std,
                                              pair_accuracy, zoo_table)
from hman_mmaction.datasets.synthetic_actions import order_swapped_pairs
from tests.helpers import run_tool

NAMES = ['up-left', 'left-up', 'up-down', 'down-up', 'up-left-up']


def test_order_swapped_pairs_of_the_hand_made_classes():
    # 'up-left-up' is its own reverse: in no pair
    assert order_swapped_pairs(NAMES) == [(0, 1), (2, 3)]


def test_pair_accuracy_on_hand_made_predictions():
    pairs = order_swapped_pairs(NAMES)
    scores = torch.tensor([
        [0.6, 0.3, 0.1, 0.0, 0.0],  # label 0: correct, beats twin 1
        [0.2, 0.1, 0.0, 0.0, 0.7],  # label 1: wrong (4), twin 0 higher
        [0.0, 0.0, 0.3, 0.1, 0.6],  # label 2: wrong (4), beats twin 3
        [0.1, 0.0, 0.0, 0.9, 0.0],  # label 3: correct, beats twin 2
        [0.0, 0.0, 0.0, 0.0, 1.0],  # label 4: correct, not in a pair
        [0.0, 0.9, 0.0, 0.0, 0.1],  # label 0: wrong (twin 1 wins)
    ])
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    result = pair_accuracy(scores, labels, pairs)
    assert result['num_samples'] == 6
    assert result['num_pair_samples'] == 5
    assert result['top1'] == pytest.approx(3 / 6)
    assert result['pair_top1'] == pytest.approx(2 / 5)
    assert result['order_acc'] == pytest.approx(3 / 5)


def test_order_blind_scores_give_chance_order_accuracy():
    """Scores identical for a class and its twin (what a mean over frames
    gives when only the order differs): never strictly better."""
    pairs = order_swapped_pairs(NAMES)
    scores = torch.tensor([[0.4, 0.4, 0.1, 0.05, 0.05]] * 2)
    result = pair_accuracy(scores, torch.tensor([0, 1]), pairs)
    assert result['order_acc'] == 0.0
    no_pairs = pair_accuracy(scores, torch.tensor([4, 4]), pairs)
    assert math.isnan(no_pairs['order_acc'])


def test_pair_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='scores must be'):
        pair_accuracy(torch.zeros(3, 5), torch.zeros(2), [])


def test_markdown_table_has_mean_and_std_per_model():
    rows = [dict(name='A', config='a.py', top1=[0.5, 0.7],
                 pair_top1=[0.4, 0.6], order_acc=[0.9, 1.0],
                 minutes=[1.0, 2.0])]
    table = markdown_table(rows).splitlines()
    assert len(table) == 3
    assert table[2].startswith('| A | `a.py` | 2 | 60.0 ± 14.1 | ')
    assert mean_std([0.5, 0.7, float('nan')])[0] == pytest.approx(0.6)


def test_zoo_table_uses_mmaction2_columns_and_the_same_statistics():
    rows = [dict(name='A', config='configs/a.py', top1=[0.5, 0.7],
                 pair_top1=[0.4, 0.6], order_acc=[0.9, 1.0],
                 minutes=[1.0, 2.0])]
    header, _, row = zoo_table(rows, segments=8, size=64).splitlines()
    assert header.startswith('| frame sampling strategy | resolution |')
    assert row == ('| 1x1x8 | 64x64 | 0 (CPU) | R18-2stage + A | none | '
                   '60.0 ± 14.1 | 95.0 ± 7.1 | 2 clips x 1 crop | '
                   '[config](../configs/a.py) | - | - |')


def test_tiny_benchmark_run_writes_table_and_json(tmp_path):
    out, js = tmp_path / 'results.md', tmp_path / 'results.json'
    result = run_tool([
        'tools/benchmark_accuracy.py', '--models', 'hman_soft', 'tsn',
        '--seeds', '0', '--epochs', '1', '--train', '8', '--test', '6',
        '--size', '32', '--num-frames', '16', '--object-size', '5',
        '--distractors', '1', '--lengths', '2', '--batch-size', '4',
        '--workers', '0', '--data-root', str(tmp_path / 'data'),
        '--work-dir', str(tmp_path / 'work'), '--out', str(out),
        '--json', str(js)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    lines = out.read_text().splitlines()
    header = [line for line in lines if line.startswith('| model')][0]
    assert [c.strip() for c in header.strip('|').split('|')] == [
        'model', 'config', 'seeds', 'top-1 %', 'pair top-1 %',
        'order acc % (true vs swapped)', 'train+test min/run']
    start = lines.index(header)
    body = lines[start + 2:lines.index('', start)]
    assert [row.split('|')[1].strip() for row in body] == [
        'HM-AN (soft attention)', 'TSN']
    zoo = [line for line in lines if line.startswith('| 1x1x8 | 32x32 |')]
    assert len(zoo) == 2 and 'R18-2stage + TSN' in zoo[1]
    report = json.loads(js.read_text())
    assert len(report['runs']) == 2
    for run in report['runs']:
        assert run['num_samples'] == 6  # one row per video (views averaged)
        # lengths=2: every class has its swapped twin
        assert run['num_pair_samples'] == run['num_samples']
        assert 0.0 <= run['order_acc'] <= 1.0
        assert 0.0 <= run['top1'] <= 1.0
