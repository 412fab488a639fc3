"""tools/benchmark_accuracy.py: the pair scores on hand-made predictions and
one tiny end-to-end run (pretraining, feature extraction, train + test of
every run, table and json)."""
import argparse
import json
import math
import os.path as osp

import pytest
import torch

from hman_lab.accuracy import benchmark as bench
from hman_lab.accuracy.scores import (attention_cells, attention_summary,
                                      boundary_layers, pair_accuracy,
                                      plateau_exit, results_table)
from hman_mmaction.datasets.synthetic_actions import order_swapped_pairs
from tests.helpers import call_tool, load_tool

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


def test_plateau_exit_is_the_first_window_below_nine_tenths_of_ln_c():
    rows = [
        dict(iter=5, loss_cls=2.5),
        dict(iter=10, loss_cls=2.3),
        dict(iter=15, loss_cls=2.2),
        dict(iter=20, loss_cls=1.0)
    ]
    assert plateau_exit(rows, 12) == 15  # 0.9 ln 12 = 2.236
    assert plateau_exit(rows[:2], 12) is None


def test_boundary_layers_read_the_metric_keys():
    metrics = {'acc/top1': 0.5}
    for layer, f1 in ((1, 0.6), (2, 0.0)):
        for key in ('rate', 'precision', 'recall', 'random_precision',
                    'random_recall', 'random_f1'):
            metrics[f'boundary/l{layer}_{key}'] = 0.25
        metrics[f'boundary/l{layer}_f1'] = f1
    layers = boundary_layers(metrics)
    assert [entry['layer'] for entry in layers] == [1, 2]
    assert layers[0]['f1'] == 0.6 and layers[0]['random_f1'] == 0.25


def test_results_table_reports_boundaries_only_for_learned_detectors():

    def run(model, top1, exit_, rates, f1):
        layers = [
            dict(
                layer=1,
                rate=0.25,
                precision=f1,
                recall=f1,
                f1=f1,
                random_f1=0.2)
        ] if rates else []
        return dict(
            task='flat',
            recipe='pretrained',
            model=model,
            name=model,
            epochs=4,
            top1=top1,
            order_acc=1.0,
            plateau_exit=exit_,
            train_rates=rates,
            boundaries=dict(layers=layers),
            attention=dict(
                pointing=f1,
                pointing_uniform=0.05,
                mass_target=f1 / 2,
                mass_target_uniform=0.05,
                mass_per_distractor=0.1,
                mass_per_distractor_uniform=0.05) if rates else None)

    results = [
        run('hman', 0.9, 35, {'bnd_rate_l1': 0.3}, 0.5),
        run('hman', 0.7, None, {'bnd_rate_l1': 0.2}, 0.3),
        run('tsn', 0.5, 25, {}, 0.0)
    ]
    args = argparse.Namespace(pretrain_epochs=6)
    table = results_table(
        results, args,
        dict(flat=dict(classes=12, pairs=6, segments=8))).splitlines()
    hman = [line for line in table if line.startswith('| hman')][0]
    cells = [c.strip() for c in hman.strip('|').split('|')]
    assert cells[1:5] == ['2', '80.0 ± 14.1', '100.0 ± 0.0', '35/—']
    assert cells[5] == '0.25 ± 0.07'  # train rate
    assert cells[7].startswith('40 / 40 / 40')  # P / R / F1
    assert cells[8] == '—'  # no exact F1 in these (older) metrics
    assert '+20 ± 14' in cells[9]  # F1 margin over the random detector
    # attention: mean ± std over seeds (value of uniform attention)
    assert cells[11:14] == ['40 ± 14 (5)', '20 ± 7 (5)', '10 ± 0 (5)']
    tsn = [line for line in table if line.startswith('| tsn')][0]
    assert tsn.rstrip(' |').endswith('— | — | — | —')


def test_attention_summary_reads_the_metric_keys():
    metrics = {
        'acc/top1': 0.9,
        'attention/pointing': 0.8,
        'attention/pointing_uniform': 0.06,
        'attention/target_ratio': 4.0,
        'attention/t0_pointing': 1.0
    }
    assert attention_summary(metrics) == dict(
        pointing=0.8, pointing_uniform=0.06, target_ratio=4.0)
    assert attention_summary({'acc/top1': 0.9}) is None
    assert attention_cells([dict(attention=None)]) == ['—'] * 3


def run_in_process(command, log_path):
    """The benchmark's ``run`` (``python tools/<tool>.py ...`` in a
    subprocess),
    but the tool's ``main(argv)`` in this process: ten runs without ten
    interpreter start-ups (tests/tools/test_train_entry_points.py starts
    the tools as commands). One run at a time (``--jobs 1``): mmengine's
    current logger and message hub are per process."""
    tool = osp.splitext(osp.basename(command[0]))[0]
    result = call_tool(tool, command[1:])
    with open(log_path, 'w') as f:
        f.write(result.stdout)
    if result.returncode:
        raise RuntimeError(f'{" ".join(command)} failed:\n'
                           f'{result.stdout[-3000:]}')


@pytest.mark.slow
def test_tiny_benchmark_runs_both_recipes_and_writes_table_and_json(
        tmp_path, monkeypatch, capsys):
    out, js = tmp_path / 'results.md', tmp_path / 'results.json'
    tool = load_tool('benchmark_accuracy')
    monkeypatch.setattr(bench, 'run', run_in_process)
    monkeypatch.chdir(tmp_path)  # the tool changes to the repository
    tool.main([
        '--tasks', 'flat', '--models', 'hman_soft', 'tsn', '--seeds', '0',
        '--pretrain-epochs', '1', '--head-epochs', '1', '--scratch-epochs',
        '1', '--train', '8', '--test', '6', '--spec', 'num_frames=16',
        '--batch-size', '4', '--workers', '0', '--jobs', '1', '--data-root',
        str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(out), '--json',
        str(js)
    ])
    text = out.read_text()
    assert text in capsys.readouterr().out  # the table is printed too
    assert '**flat task, pretrained recipe**' in text
    assert '**flat task, scratch recipe**' in text
    zoo = [
        line for line in text.splitlines()
        if line.startswith('| 1x1x8 | 32x32 |')
    ]
    assert len(zoo) == 2 and 'R18-2stage + TSN' in zoo[1]
    report = json.loads(js.read_text())
    assert len(report['runs']) == 4
    for run in report['runs']:
        assert run['num_samples'] == 6  # one row per video (views averaged)
        assert 0.0 <= run['order_acc'] <= 1.0
        if run['model'] == 'hman_soft':
            layers = run['boundaries']['layers']
            assert layers and 0.0 <= layers[0]['f1'] <= 1.0
            attention = run['attention']
            assert 0.0 <= attention['pointing'] <= 1.0
            assert 0.0 < attention['mass_target_uniform'] < 1.0


def test_a_finished_run_is_reused_only_for_the_same_config_text(tmp_path):
    config = tmp_path / 'model.py'
    config.write_text('model = dict(type="A", depth=18)\n')
    job = dict(config=str(config), epochs=4, options=['a=1'])
    first = bench.run_command(job)
    assert bench.run_command(job) == first
    config.write_text('model = dict(type="A", depth=34)\n')  # edited
    assert bench.run_command(job) != first
    assert bench.run_command(dict(job,
                                  options=['a=2'])) != bench.run_command(job)


@pytest.mark.parametrize('option, named', [
    ('model.cls_head.atention.score=bilinear', 'Did you mean `attention`'),
    ('model.cls_head.attention.score=bilinar', "'bilinar'"),
])
def test_bad_head_options_fail_before_any_data_or_training(
        tmp_path, option, named):
    # issue 21: a misspelt key used to fail only after generating the data,
    # pretraining TSN and extracting the features
    tool = load_tool('benchmark_accuracy')
    data = tmp_path / 'data'
    with pytest.raises(SystemExit) as info:
        tool.main([
            '--head-options', option, '--data-root',
            str(data), '--work-dir',
            str(tmp_path / 'work')
        ])
    assert named in str(info.value) and 'Nothing was run' in str(info.value)
    assert not data.exists() and not (tmp_path / 'work').exists()


def test_every_default_run_and_diagnostic_passes_the_option_check(tmp_path):
    tool = load_tool('benchmark_accuracy')
    args = tool.parse_args([
        '--models', *sorted(bench.MODELS), '--head-options',
        'model.cls_head.attention.score=bilinear', '--out',
        str(tmp_path / 'results.md')
    ])
    bench.check_options(args)  # builds every head; raises on a bad one


def test_boundary_cells_show_diagnostic_detectors_but_not_silent_layers():
    from hman_lab.accuracy.scores import boundary_cells
    oracle = dict(
        train_rates={},
        boundaries=dict(layers=[
            dict(
                layer=1,
                rate=0.125,
                precision=1.0,
                recall=1.0,
                f1=1.0,
                exact_f1=1.0,
                random_f1=0.35,
                prior_f1=0.4)
        ]))
    cells = boundary_cells([oracle, oracle], 1)
    assert cells[0] == '—' and cells[1].startswith('0.12')
    assert cells[2].startswith('100 / 100 / 100')
    assert cells[3] == '100' and cells[5] == '40'
    silent = dict(
        train_rates={},
        boundaries=dict(layers=[
            dict(
                layer=1,
                rate=0.0,
                precision=0.0,
                recall=0.0,
                f1=0.0,
                random_f1=0.0)
        ]))
    assert boundary_cells([silent], 1) == ['—'] * 6


def test_a_saved_run_without_attention_scores_is_tested_again(
        tmp_path, monkeypatch):
    """A recurrent head's result saved before the attention metric existed
    is tested again from its checkpoint (not retrained); TSN's and complete
    results are reused."""
    config = tmp_path / 'model.py'
    config.write_text('model = dict(type="A")\n')
    calls = []
    monkeypatch.setattr(
        bench, 'train_and_test',
        lambda *args: calls.append('train') or str(tmp_path / 'dump.pkl'))
    monkeypatch.setattr(
        bench, 'test_checkpoint', lambda *args: calls.append(
            ('test', args[4])) or 'dump.pkl')
    monkeypatch.setattr(bench, 'score_run',
                        lambda *args: dict(top1=1.0, attention=dict(a=1)))
    for model in ('hman_soft', 'tsn'):
        work_dir = tmp_path / model
        work_dir.mkdir()
        (work_dir / 'epoch_4.pth').write_text('')
        job = dict(
            config=str(config),
            epochs=4,
            options=[],
            model=model,
            work_dir=str(work_dir))
        old = dict(top1=0.5, attention=None, command=bench.run_command(job))
        (work_dir / 'result.json').write_text(json.dumps(old))
        [result] = bench.run_jobs([job], [], 12)
        assert bool(result.get('reused')) == (model == 'tsn')
    assert calls == [('test', ['--boundaries', '--attention'])]
    [again] = bench.run_jobs(
        [dict(job, model='hman_soft', work_dir=str(tmp_path / 'hman_soft'))],
        [], 12)
    assert again['reused'] and calls == [
        ('test', ['--boundaries', '--attention'])
    ]


def test_a_saved_run_without_exact_boundary_scores_is_tested_again(
        tmp_path, monkeypatch):
    config = tmp_path / 'model.py'
    config.write_text('model = dict(type="A")\n')
    calls = []
    monkeypatch.setattr(bench, 'train_and_test',
                        lambda *args: calls.append('train'))
    monkeypatch.setattr(bench, 'test_checkpoint',
                        lambda *args: calls.append('test') or 'dump.pkl')
    monkeypatch.setattr(bench, 'score_run',
                        lambda *args: dict(top1=1.0, attention=dict(a=1)))
    work_dir = tmp_path / 'hman_soft'
    work_dir.mkdir()
    (work_dir / 'epoch_4.pth').write_text('')
    job = dict(
        config=str(config),
        epochs=4,
        options=[],
        model='hman_soft',
        work_dir=str(work_dir))
    layers = [dict(layer=1, f1=0.3)]  # saved before exact_f1 existed
    old = dict(
        top1=0.5,
        attention=dict(a=1),
        boundaries=dict(layers=layers),
        command=bench.run_command(job))
    (work_dir / 'result.json').write_text(json.dumps(old))
    bench.run_jobs([job], [], 12)
    assert calls == ['test']
