"""tools/benchmark.py at tiny sizes: every figure lands in the json (no
timing asserts), and the memory probe returns a figure."""
import json

from hman_mmaction.benchmark.speed import E2E_VARIANTS, HEAD_VARIANTS, MODES
from hman_mmaction.benchmark.timing import probe_memory
from tests.helpers import call_tool, load_tool

STATS = {
    'median_ms', 'min_ms', 'mean_ms', 'std_ms', 'repeats', 'ratio', 'peak_mib'
}


def test_tiny_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / 'bench.json'
    result = call_tool('benchmark', [
        '--tiny', '--no-memory', '--threads', '1', '--repeats', '2', '--json',
        str(out)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads(out.read_text())
    assert set(report) == {'meta', 'head', 'end_to_end', 'targets'}
    for group, variants, reference in (('head', HEAD_VARIANTS, 'lstm'),
                                       ('end_to_end', E2E_VARIANTS, 'tsn')):
        assert set(report[group]) == set(variants)
        for variant in variants:
            for mode in MODES:
                figures = report[group][variant][mode]
                assert set(figures) == STATS, (group, variant, mode)
                assert figures['repeats'] == 2
                assert figures['median_ms'] > 0
                assert figures['peak_mib'] is None  # --no-memory
        for mode in MODES:
            assert report[group][reference][mode]['ratio'] == 1.0
            for variant in variants:
                r = report[group][variant][mode]
                expected = (
                    r['median_ms'] /
                    report[group][reference][mode]['median_ms'])
                assert abs(r['ratio'] - expected) < 1e-9
    assert set(report['targets']) == {
        'head_train_vs_lstm', 'e2e_train_vs_tsn', 'e2e_infer_vs_tsn'
    }
    assert report['meta']['settings']['head_segments'] == 4
    # the printed tables carry every variant
    for label in ('HM-AN soft', 'Att-LSTM', 'fused nn.LSTM', 'TSN head'):
        assert label in result.stdout


def test_memory_probe_measures_one_variant_in_a_subprocess():
    tool = load_tool('benchmark')
    settings = tool.settings_from(
        tool.parse_args(['--tiny', '--threads', '1']))
    # 'hman_soft' of the head group, training step: a float >= 0 MiB
    peak = probe_memory('head', 'hman_soft', 'train', settings, timeout=300)
    assert isinstance(peak, float) and peak >= 0.0
    # an unknown variant makes the probe fail, reported as None
    assert probe_memory('head', 'nope', 'train', settings, timeout=300) is None


def test_head_score_flag_reaches_every_hman_variant_and_builds():
    """``--head-score`` switches the attention score of all HM-AN variants
    (head and end to end); each one builds and runs at tiny sizes."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    from hman_mmaction.benchmark.speed import head_config, recognizer_config
    init_default_scope('mmaction')
    tool = load_tool('benchmark')
    for score in ('content', 'bilinear', 'location'):
        s = tool.settings_from(
            tool.parse_args(['--tiny', '--head-score', score]))
        for variant in ('hman_soft', 'hman_hard', 'attlstm'):
            cfg = head_config(s['head_cfg'], variant, s)
            assert cfg['attention']['score'] == score, variant
            head = MODELS.build(cfg)
            x = torch.randn(s['head_batch'] * s['head_segments'],
                            s['head_channels'], s['head_map'], s['head_map'])
            assert head(x).shape == (s['head_batch'], s['num_classes'])
        e2e = recognizer_config('hman', s)
        assert e2e['cls_head']['attention']['score'] == score
        MODELS.build(e2e)
