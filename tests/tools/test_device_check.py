"""``tools/device_check.py``: the dry run (what CI runs) writes both reports
and every part that can run on a CPU passes; without CUDA and without
``--dry-run`` the check stops with status 2 and says why; a part that
fails or runs out of time is reported with its traceback and does not stop
the others."""
import json

import pytest
import torch

from tests.helpers import load_tool, run_tool

pytestmark = pytest.mark.slow


def test_dry_run_writes_the_reports_and_the_cpu_parts_pass(tmp_path):
    out = tmp_path / 'check'
    result = run_tool(
        ['tools/device_check.py', '--dry-run', '--out',
         str(out)],
        env=dict(OMP_NUM_THREADS='1'),
        timeout=900)
    assert result.returncode == 0, result.stdout[-4000:]
    report = json.loads((out / 'report.json').read_text())
    text = (out / 'report.md').read_text()
    parts = report['parts']
    assert list(parts) == ['a', 'b', 'g', 'd', 'k']
    # a: the CUDA tests are collected and, without CUDA, all skipped
    assert parts['a']['status'] == 'skipped'
    assert parts['a']['counts'] == {'skipped': len(parts['a']['tests'])}
    names = ' '.join(t['name'] for t in parts['a']['tests'])
    for test in ('no_host_sync', 'cuda_graph_capturable[fast]',
                 'cuda_graph_capturable[reference]', 'gumbel_softmax',
                 'cuda_graphed_step_matches_the_eager_one_in_float32',
                 'cuda_replays_survive_empty_cache'):
        assert test in names
    # b: three heads x fp32 / fp16 / bf16 autocast, each compared
    assert parts['b']['status'] == 'passed'
    rows = parts['b']['rows']
    assert len(rows) == 9 and {r['status'] for r in rows} == {'passed'}
    assert {r['precision']
            for r in rows} == {'fp32', 'fp16 autocast', 'bf16 autocast'}
    # g: both rows, every variant timed with its ops; on a CPU the option
    # runs eagerly (and says so), parity and stress need CUDA
    assert parts['g']['status'] == 'passed'
    for row in parts['g']['rows'].values():
        variants = row['variants']
        assert set(variants) == {
            'option', 'option_fast', 'eager', 'reference', 'fast', 'lstm'
        }
        assert all(v['ops'] > 0 and v['median_ms'] > 0
                   for v in variants.values())
        assert variants['option']['graphed'] is False
    assert 'parity' not in parts['g'] and 'stress' not in parts['g']
    # d: the option on and off and TSN, full batches then a smaller one
    assert parts['d']['status'] == 'passed'
    for name in ('hman', 'hman_eager', 'tsn'):
        run = parts['d']['runs'][name]
        assert run['iterations'] == 3 and run['finite']
        assert run['batch_sizes'] == [2, 2, 1]
        assert run['median_ms'] > 0 and run['timed_iterations'] == 1
    assert parts['d']['runs']['hman']['graphs']['option'] == 'auto'
    assert parts['d']['runs']['hman_eager']['graphs']['option'] is False
    assert parts['d']['ratios']['hman']['time_per_iter_vs_tsn'] > 0
    # k: CUDA only
    assert parts['k']['status'] == 'skipped'
    # the acceptance block: every target, no verdict without a GPU
    block = report['acceptance']
    assert not block['measured'] and block['all_met'] is None
    assert {c['id'] for c in block['checks']} == {f'T{i}' for i in range(1, 7)}
    assert all(c['met'] is None for c in block['checks'])
    assert block['unmeasured'] == [f'T{i}' for i in range(1, 7)]
    for title in ('## Acceptance (issue 33)', '## a. ', '## b. ', '## g. ',
                  '## d. ', '## k. ', '## e. Failures', 'ops/step',
                  'hman time per iteration x TSN', 'not measured'):
        assert title in text
    assert report['environment']['torch'] == torch.__version__


def test_the_acceptance_block_puts_each_figure_next_to_its_target():
    """Figures from the parts of one run, each against its target; a
    figure whose part did not run is not measured (``met`` None)."""
    from hman_lab.device_check.acceptance import acceptance
    variants = dict(
        option=dict(median_ms=8.0, vs_lstm=1.3, capture_s=[1.5]),
        eager=dict(median_ms=90.0),
        reference=dict(median_ms=88.0))
    parts = dict(
        g=dict(
            rows=dict(
                fp32=dict(variants=variants),
                fp16=dict(
                    variants=dict(
                        option=dict(median_ms=13.0, capture_s=[6.0])))),
            parity=dict(values=2e-6, grads=3e-6, flips=0),
            stress=dict(cuda_errors=0, extra_gib=0.01)),
        d=dict(
            runs=dict(
                hman=dict(
                    median_ms=120.0,
                    graphs=dict(keys=[16, 8], capture_total_s=4.0)),
                tsn=dict(median_ms=115.0))))
    block = acceptance(dict(dry_run=False, parts=parts))
    checks = {c['key']: c for c in block['checks']}
    assert checks['head_fp32_vs_lstm']['met'] is True
    assert checks['head_fp16_ms']['value'] == 13.0
    assert checks['head_fp16_ms']['met'] is False
    assert abs(checks['e2e_vs_tsn']['value'] - 120 / 115) < 1e-12
    assert checks['e2e_vs_tsn']['met'] is True
    assert checks['e2e_vs_tsn']['moonshot_met'] is True
    assert checks['capture_s_per_key']['value'] == 6.0
    assert checks['capture_s_per_key']['met'] is False
    assert checks['capture_s_first_epoch']['met'] is True
    assert checks['compile_s']['met'] is None  # part k did not run
    assert checks['parity_flips']['met'] is True
    assert checks['fallback_vs_reference']['value'] == 90.0 / 88.0
    assert checks['fallback_vs_reference']['met'] is True
    assert block['unmeasured'] == ['T3'] and block['all_met'] is None


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA machine')
def test_without_cuda_the_check_exits_with_a_clear_message(tmp_path):
    result = run_tool(
        ['tools/device_check.py', '--out',
         str(tmp_path / 'check')])
    assert result.returncode == 2
    assert 'no CUDA device' in result.stdout and '--dry-run' in result.stdout


def test_a_failing_part_is_reported_with_its_traceback(tmp_path):
    """A part whose process dies leaves a failure with its output; the
    report is written all the same, the other parts still run."""
    from hman_lab.device_check.check import run_part
    from hman_lab.device_check.parts import worker
    from hman_lab.device_check.report import write_report
    tool = load_tool('device_check')
    out = tmp_path / 'check'
    args = tool.parse_args(['--dry-run', '--out', str(out)])
    (out / 'parts').mkdir(parents=True)
    (out / 'logs').mkdir()
    args.worker = 'nope'  # not a part: the worker raises a KeyError
    worker(args)
    failed = json.loads((out / 'parts' / 'nope.json').read_text())
    assert failed['status'] == 'failed'
    assert 'KeyError' in failed['errors'][0]['traceback']
    # the parent side: a part that runs out of time
    result = run_part('b', args, limit=0.5)
    assert result['status'] == 'failed'
    assert 'ran out of its' in result['errors'][-1]['traceback']
    report = dict(dry_run=True, parts=dict(b=result, a=dict(status='x')))
    write_report(report, str(out))
    text = (out / 'report.md').read_text()
    assert '## e. Failures' in text and 'ran out of its' in text
    assert json.loads(
        (out / 'report.json').read_text())['parts']['b']['status'] == 'failed'


def test_the_check_starts_without_the_stack():
    """Before ``--install-wheels`` has run, the check imports nothing but
    the standard library: its help and its module load with torch, the
    OpenMMLab stack and the plugin unimportable."""
    from tests.helpers import run_python
    result = run_python(
        """
import sys
sys.argv = ['device_check.py', '--help']
sys.path.insert(0, 'tools')
import runpy
try:
    runpy.run_path('tools/device_check.py', run_name='__main__')
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
import hman_lab.device_check.check
print('loaded')
""",
        block=('torch', 'mmengine', 'mmcv', 'mmaction', 'numpy',
               'hman_mmaction'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert '--install-wheels' in result.stdout and 'loaded' in result.stdout
