"""tools/ablate.py (:mod:`hman_lab.accuracy.ablation`) trains and tests
every config for every seed and writes one table row per config (plus the
json with every run); a rerun reuses the finished runs."""
import json
import os.path as osp

from hman_lab.tables import format_mean_std
from tests.helpers import load_tool

CONFIGS = ['configs/cached/hman_demo.py', 'configs/cached/demo/tsn_demo.py']


def test_ablate_two_cached_configs_one_seed_writes_one_row_each(
        demo_store, tmp_path):
    out = str(tmp_path / 'table.md')
    rows = load_tool('ablate').main(CONFIGS + [
        '--seeds', '1', '--out', out, '--work-dir',
        str(tmp_path / 'runs'), '--feature-store', demo_store,
        '--timing-repeats', '2', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1'
    ])
    with open(out) as f:
        lines = f.read().strip().splitlines()
    assert lines[0].startswith('| config | seeds | test top-1 (%)')
    body = lines[2:]
    assert [line.split('|')[1].strip()
            for line in body] == ['cached/hman_demo', 'cached/demo/tsn_demo']
    assert all(line.split('|')[2].strip() == '1' for line in body)
    with open(osp.join(tmp_path, 'table.json')) as f:
        saved = json.load(f)
    assert [r['config'] for r in saved['rows']] == CONFIGS
    for config, row in zip(CONFIGS, rows):
        (run, ) = saved['runs'][config]
        assert osp.isfile(run['checkpoint'])  # trained, then tested
        assert 0.0 <= run['metrics']['acc/top1'] <= 1.0
        assert row['top1_mean_std'] == format_mean_std(
            [run['metrics']['acc/top1']])
        assert f'| {row["top1_mean_std"]} |' in body[CONFIGS.index(config)]
    # HM-AN's head is far larger than TSN's linear classifier
    assert rows[0]['head_params'] > 10 * rows[1]['head_params'] > 0
    # boundary columns: scored for HM-AN (the store has the ground truth),
    # not for TSN
    assert 'layer-1 boundary F1 (%)' in lines[0]
    hman_run = saved['runs'][CONFIGS[0]][0]['metrics']
    assert 0.0 <= hman_run['boundary/l1_f1'] <= 1.0
    assert 'boundary/l1_f1' not in saved['runs'][CONFIGS[1]][0]['metrics']
    assert body[0].split('|')[6].strip() == format_mean_std(
        [hman_run['boundary/l1_f1']])
    # attention columns: scored for HM-AN against the stored boxes, next to
    # uniform attention; '—' for TSN
    assert 'attention pointing % (uniform)' in lines[0]
    pointing = hman_run['attention/pointing']
    uniform = hman_run['attention/pointing_uniform']
    assert body[0].split('|')[8].strip() == (f'{100 * pointing:.0f} '
                                             f'({100 * uniform:.0f})')
    assert body[1].split('|')[8].strip() == '—'
    assert 'attention/pointing' not in saved['runs'][CONFIGS[1]][0]['metrics']


def test_boundaries_are_scored_only_where_they_exist(demo_store):
    from hman_lab.accuracy.ablation import scores_boundaries
    store = {'test_dataloader.dataset.store': demo_store}
    assert scores_boundaries('configs/cached/hman_demo.py', store)
    assert not scores_boundaries('configs/cached/demo/attlstm_demo.py',
                                 store)  # NoBoundary: nothing learned
    assert not scores_boundaries('configs/cached/demo/tsn_demo.py', store)


def test_attention_is_scored_only_where_boxes_and_maps_exist(
        demo_store, tmp_path):
    from hman_lab.accuracy.ablation import scores_attention
    store = {'test_dataloader.dataset.store': demo_store}
    assert scores_attention('configs/cached/hman_demo.py', store)
    assert scores_attention('configs/cached/demo/attlstm_demo.py', store)
    assert not scores_attention('configs/cached/demo/tsn_demo.py', store)
    empty = {'test_dataloader.dataset.store': str(tmp_path / 'none')}
    assert not scores_attention('configs/cached/hman_demo.py', empty)


def test_head_costs_use_the_synchronised_round_robin_timer(monkeypatch):
    """The head timings come from benchmark.timing (device synchronised
    around every call), divided by the clips of the batch."""
    import torch

    from hman_lab.accuracy import ablation

    class Model(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.cls_head = torch.nn.Linear(4, 2)

    setups = {c: (Model(), torch.zeros(3, 4), {}, 3) for c in CONFIGS}
    monkeypatch.setattr(ablation, '_head_input',
                        lambda config, options: setups[config])
    seen = {}

    def fake_timer(fns, device, repeats, warmup):
        seen.update(device=device, repeats=repeats, names=list(fns))
        return {name: dict(median_ms=6.0) for name in fns}

    monkeypatch.setattr(ablation, 'time_round_robin', fake_timer)
    costs = ablation.head_costs(CONFIGS, {}, repeats=4)
    assert seen == dict(device='cpu', repeats=4, names=CONFIGS)
    assert costs[CONFIGS[0]]['head_ms_per_clip'] == 2.0
    assert costs[CONFIGS[0]]['head_params'] == 4 * 2 + 2
