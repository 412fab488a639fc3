"""train -> checkpoint -> resume -> test through the tools, for HM-AN and
both baselines (Att-LSTM, TSN), on a few generated videos.

The tools' ``main(argv)`` runs in this process (tests/tools/
test_train_entry_points.py runs them as commands); HM-AN continues the
shared one-epoch run of ``python tools/train.py`` (``demo_run``)."""
import os.path as osp

import mmaction
import pytest

from tests.helpers import call_tool, data_overrides, run_tool
from tests.tools.conftest import copy_run

CONFIGS = {
    'hman': 'configs/hman_demo.py',
    'attlstm': 'configs/demo/attlstm_demo.py',
    'tsn': 'configs/demo/tsn_demo.py',
}
UPSTREAM_TEST = osp.join(
    osp.dirname(mmaction.__file__), '.mim', 'tools', 'test.py')


def train(config, dataset, work_dir, epochs, *extra):
    result = call_tool('train', [
        config, '--work-dir',
        str(work_dir), *extra, '--cfg-options',
        f'train_cfg.max_epochs={epochs}', 'default_hooks.logger.interval=1'
    ] + data_overrides(dataset.root))
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_train_checkpoint_resume_and_multiview_test(name, tiny_dataset,
                                                    demo_run, tmp_path):
    config = CONFIGS[name]
    if name == 'hman':
        assert demo_run[1].returncode == 0, demo_run[1].stdout[-4000:]
        copy_run(demo_run[0], tmp_path)
    else:
        train(config, tiny_dataset, tmp_path, 1)
    assert osp.exists(tmp_path / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'epoch_2.pth')

    # a longer schedule, continued from the last checkpoint of the work dir
    log = train(config, tiny_dataset, tmp_path, 2, '--resume')
    assert 'resumed epoch: 1' in log, log[-3000:]
    assert 'Epoch(train) [1]' not in log  # epoch 1 was not trained again
    assert 'Epoch(train) [2]' in log
    assert osp.exists(tmp_path / 'epoch_2.pth')

    # mmaction2's test protocol: 2 clips per video (twice_sample)
    result = call_tool('test', [
        config,
        str(tmp_path / 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--dump',
        str(tmp_path / 'predictions.pkl'), '--show-dir',
        str(tmp_path / 'show'), '--cfg-options'
    ] + data_overrides(tiny_dataset.root))
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'acc/top1' in result.stdout
    assert 'Epoch(test) [' in result.stdout
    import pickle
    with open(tmp_path / 'predictions.pkl', 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4  # every test video scored once
    assert predictions[0]['pred_score'].shape[-1] == 12
    # --show-dir: mmaction2's ActionVisualizer drew the frames of every
    # test video (2 clips x 8 frames each)
    drawn = [p for p in (tmp_path / 'show').rglob('*') if p.is_file()]
    assert len(drawn) >= 4, drawn


def test_upstream_mmaction_test_script_tests_our_checkpoint(
        tiny_dataset, demo_run, tmp_path):
    work_dir, trained = demo_run
    assert trained.returncode == 0, trained.stdout[-4000:]
    result = run_tool([  # a fresh interpreter: mmaction2's own script
        UPSTREAM_TEST, CONFIGS['hman'],
        str(work_dir / 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + data_overrides(tiny_dataset.root))
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'acc/top1' in result.stdout
