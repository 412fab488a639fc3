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
    assert list(parts) == ['a', 'b', 'd', 'c']
    # a: the CUDA tests are collected and, without CUDA, all skipped
    assert parts['a']['status'] == 'skipped'
    assert parts['a']['counts'] == {'skipped': len(parts['a']['tests'])}
    names = ' '.join(t['name'] for t in parts['a']['tests'])
    for test in ('no_host_sync', 'cuda_graph_capturable[fast]',
                 'cuda_graph_capturable[reference]', 'gumbel_softmax'):
        assert test in names
    # b: three heads x fp32 / fp16 / bf16 autocast, each compared
    assert parts['b']['status'] == 'passed'
    rows = parts['b']['rows']
    assert len(rows) == 9 and {r['status'] for r in rows} == {'passed'}
    assert {r['precision']
            for r in rows} == {'fp32', 'fp16 autocast', 'bf16 autocast'}
    # c: the head table of the benchmark, every head variant timed
    assert parts['c']['status'] == 'passed'
    head = parts['c']['runs']['eager']['head']
    assert {'hman_soft', 'hman_soft_reference', 'lstm'} <= set(head)
    assert head['hman_soft']['train']['floor_ratio'] > 0
    # d: both configs trained their iterations with finite losses
    assert parts['d']['status'] == 'passed'
    for name in ('hman', 'tsn'):
        run = parts['d']['runs'][name]
        assert run['iterations'] == 3 and run['finite']
    assert parts['d']['runs']['ratio']['time_per_iter_vs_tsn'] > 0
    for title in ('## a. ', '## b. ', '## c. ', '## d. ', '## e. Failures',
                  'x floor', 'HM-AN step time x TSN'):
        assert title in text
    assert report['environment']['torch'] == torch.__version__


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
