"""tools/benchmark.py at tiny sizes: every figure lands in the json (no
timing asserts), and the memory probe returns a figure."""
import json

from hman_lab.speed import benchmark as speed
from hman_lab.speed import cache
from hman_lab.speed.cases import E2E_VARIANTS, HEAD_VARIANTS, MODES
from hman_lab.speed.timing import probe_memory
from tests.helpers import call_tool, load_tool

STATS = {
    'median_ms', 'min_ms', 'mean_ms', 'std_ms', 'repeats', 'ratio', 'peak_mib'
}
FLOOR = {
    'flops', 'bytes', 'compute_ms', 'memory_ms', 'floor_ms', 'floor_ratio'
}


def test_tiny_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / 'bench.json'
    result = call_tool('benchmark', [
        '--tiny', '--no-memory', '--threads', '1', '--repeats', '2', '--json',
        str(out)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads(out.read_text())
    assert set(report) == {
        'meta', 'head', 'machine', 'end_to_end', 'targets', 'summary', 'errors'
    }
    assert report['errors'] == {}
    assert set(report['end_to_end']) == {'32'}  # --tiny: one size
    for group, variants, reference, stats in ((report['head'], HEAD_VARIANTS,
                                               'lstm', STATS | FLOOR
                                               | {'ops'}),
                                              (report['end_to_end']['32'],
                                               E2E_VARIANTS, 'tsn', STATS)):
        assert set(group) == set(variants)
        for variant in variants:
            for mode in MODES:
                figures = group[variant][mode]
                assert set(figures) == stats, (variant, mode)
                assert figures['repeats'] == 2
                assert figures['median_ms'] > 0
                assert figures['peak_mib'] is None  # --no-memory
        for mode in MODES:
            assert group[reference][mode]['ratio'] == 1.0
            for variant in variants:
                r = group[variant][mode]
                expected = r['median_ms'] / group[reference][mode]['median_ms']
                assert abs(r['ratio'] - expected) < 1e-9
    # the floor: work from the shapes, rates measured in the same run
    for mode in MODES:
        rates = report['machine'][mode]
        assert rates['gemm_gflops'] > 0 and rates['stream_gbps'] > 0
        for variant in HEAD_VARIANTS:
            r = report['head'][variant][mode]
            assert r['flops'] > 0 and r['bytes'] > 0
            assert r['floor_ms'] == max(r['compute_ms'], r['memory_ms'])
            assert abs(r['compute_ms'] - r['flops'] /
                       (rates['gemm_gflops'] * 1e6)) < 1e-9
            assert abs(r['floor_ratio'] -
                       r['median_ms'] / r['floor_ms']) < 1e-9
    for variant in HEAD_VARIANTS:  # backward = 2 x forward GEMMs
        head = report['head'][variant]
        assert head['train']['flops'] == 3 * head['infer']['flops']
        assert head['train']['ops'] > head['infer']['ops'] > 0  # ops/step
    assert set(report['targets']) == {
        'head_train_vs_floor', 'head_train_vs_lstm', 'e2e_train_vs_tsn',
        'e2e_infer_vs_tsn'
    }
    assert report['meta']['settings']['head_segments'] == 4
    # the README table: the default head, then train / inference per size
    summary = report['summary']
    assert [row[0] for row in summary['rows']] == [
        'head, train (fwd+bwd)', 'head, inference',
        'R50 recognizer 32 px, train step', 'R50 recognizer 32 px, inference'
    ]
    head = report['head']['hman_soft']['train']
    assert summary['rows'][0][2] == f'{head["floor_ratio"]:.2f}'
    assert summary['rows'][0][3] == f'{head["ratio"]:.2f}'
    # the printed tables carry every variant
    for label in ('HM-AN soft', 'Att-LSTM', 'fused nn.LSTM', 'TSN head',
                  'x floor', 'GFLOP', 'GEMM', 'ops/step'):
        assert label in result.stdout


def test_memory_probe_measures_one_variant_in_a_subprocess():
    tool = load_tool('benchmark')
    settings = speed.settings_from(
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

    from hman_lab.speed.cases import head_config, recognizer_config
    init_default_scope('mmaction')
    tool = load_tool('benchmark')
    for score in ('content', 'bilinear', 'location'):
        s = speed.settings_from(
            tool.parse_args(['--tiny', '--head-score', score]))
        for variant in ('hman_soft', 'hman_hard', 'attlstm'):
            cfg = head_config(s['head_cfg'], variant, s)
            assert cfg['attention']['score'] == score, variant
            head = MODELS.build(cfg)
            x = torch.randn(s['head_batch'] * s['head_segments'],
                            s['head_channels'], s['head_map'], s['head_map'])
            assert head(x).shape == (s['head_batch'], s['num_classes'])
        e2e = recognizer_config('hman', speed.e2e_settings(s, 32))
        assert e2e['cls_head']['attention']['score'] == score
        MODELS.build(e2e)


def test_reference_flag_times_the_default_head_on_its_reference_loop():
    """``--reference`` adds the default head with ``fused_sequence=False``;
    it has the floor of the fast head (same arithmetic)."""
    from hman_lab.speed.cases import REFERENCE_VARIANT, build_cases
    tool = load_tool('benchmark')
    s = speed.settings_from(tool.parse_args(['--tiny', '--reference']))
    cases = build_cases('head', s)
    assert REFERENCE_VARIANT in cases['train']
    assert cases['work'][REFERENCE_VARIANT] == cases['work']['hman_soft']
    cases['train'][REFERENCE_VARIANT]()
    default = build_cases('head',
                          speed.settings_from(tool.parse_args(['--tiny'])))
    assert REFERENCE_VARIANT not in default['train']


def test_speed_summary_table_has_the_tool_summary_columns_and_rows():
    """The speed summary table (docs/performance.md) is the tool's summary
    (same columns, the head rows, train and inference at 112 and 224 px)."""
    import os
    import re

    from tests.helpers import REPO
    with open(os.path.join(REPO, 'docs', 'performance.md')) as f:
        text = f.read()
    marker = '<!-- speed: tools/benchmark.py'
    assert marker in text
    lines = text.split(marker, 1)[1].splitlines()
    table = [line for line in lines[1:12] if line.startswith('|')]
    header = [cell.strip() for cell in table[0].strip('|').split('|')]
    assert header == list(speed.SUMMARY_HEADERS)
    measures = [row.strip('|').split('|')[0].strip() for row in table[2:]]
    assert measures == [
        'head, train (fwd+bwd)', 'head, inference',
        'R50 recognizer 112 px, train step',
        'R50 recognizer 112 px, inference',
        'R50 recognizer 224 px, train step', 'R50 recognizer 224 px, inference'
    ]
    for row in table[2:]:
        numbers = [c.strip() for c in row.strip('|').split('|')[1:]]
        assert all(re.fullmatch(r'\d+(\.\d+)?|—', c) for c in numbers), row


def test_cache_benchmark_measures_every_size_in_one_run(tmp_path):
    """``tools/benchmark_cache.py`` at tiny sizes: both sides per size, the
    ratios of the medians and of the minima, a target row per size."""
    out = tmp_path / 'cache.json'
    result = call_tool('benchmark_cache', [
        '--clips', '2', '--size', '64', '32', '--frames', '2', '--batch-size',
        '2', '--rounds', '2', '--work-dir',
        str(tmp_path / 'work'), '--json',
        str(out)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads(out.read_text())['results']
    assert [r['size'] for r in results] == [64, 32]
    for r in results:
        assert len(r['end_to_end']) == len(r['cached']) == 2
        assert r['ratio_min'] == min(r['end_to_end']) / min(r['cached'])
        assert 'target' not in r  # targets are for 224 and 112 px
    assert '| 64 px |' in result.stdout and '| 32 px |' in result.stdout
    assert cache.TARGETS == {224: 50.0, 112: 20.0}


def test_execution_rows_are_timed_or_reported_and_tabled(tmp_path):
    """``--cuda-graphs`` and ``--compiled`` add the default head on both
    paths (and the LSTM for CUDA graphs) in that execution; a variant that
    cannot be prepared (CUDA graphs without CUDA) is reported with its
    traceback, not timed, and the run goes on to the execution table."""
    import torch

    from hman_lab.speed.cases import _head_variants
    names = _head_variants(
        dict(
            head_executions=['eager', 'cudagraph', 'compiled'],
            head_reference=True), None)
    assert names[-5:] == [
        'hman_soft+cudagraph', 'hman_soft_reference+cudagraph',
        'lstm+cudagraph', 'hman_soft+compiled', 'hman_soft_reference+compiled'
    ]
    if torch.cuda.is_available():
        return
    out = tmp_path / 'bench.json'
    result = call_tool('benchmark', [
        '--tiny', '--no-memory', '--threads', '1', '--repeats', '2',
        '--skip-e2e', '--reference', '--cuda-graphs', '--json',
        str(out)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads(out.read_text())
    assert set(report['errors']) == {
        'hman_soft+cudagraph', 'hman_soft_reference+cudagraph',
        'lstm+cudagraph'
    }
    assert all('needs a CUDA device' in tb or 'need a CUDA device' in tb
               for tb in report['errors'].values())
    assert 'hman_soft+cudagraph' not in report['head']
    assert 'Head by execution' in result.stdout
    assert 'not timed, it failed to prepare' in result.stdout
