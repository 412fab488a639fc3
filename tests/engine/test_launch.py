"""hman_mmaction.engine.launch takes plain arguments (the tools only parse
the command line into them) and builds the same configs as mmaction2's
flags would."""
import os

import pytest

from hman_mmaction.engine import launch
from tests.helpers import load_tool

DEMO = 'configs/hman_demo.py'


def test_train_config_applies_plain_arguments():
    cfg = launch.train_config(
        DEMO,
        work_dir='w',
        resume='auto',
        no_validate=True,
        seed=3,
        deterministic=True,
        cfg_options={'train_cfg.max_epochs': 1})
    assert cfg.work_dir == 'w' and cfg.launcher == 'none'
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.val_cfg is None and cfg.val_dataloader is None
    assert cfg.randomness.seed == 3 and cfg.randomness.deterministic
    assert cfg.train_cfg.max_epochs == 1


def test_train_config_defaults_the_work_dir_to_the_config_name():
    cfg = launch.train_config(DEMO, resume='some.pth')
    assert cfg.work_dir == os.path.join('./work_dirs', 'hman_demo')
    assert cfg.resume is True and cfg.load_from == 'some.pth'


def test_test_config_adds_the_dump_evaluator_and_checks_its_name():
    cfg = launch.test_config(DEMO, 'c.pth', dump='out.pkl')
    assert cfg.load_from == 'c.pth'
    assert cfg.test_evaluator[-1] == dict(
        type='DumpResults', out_file_path='out.pkl')
    with pytest.raises(ValueError, match='must end in .pkl'):
        launch.test_config(DEMO, 'c.pth', dump='out.txt')
    with pytest.raises(ValueError, match='launcher must be one of'):
        launch.test_config(DEMO, 'c.pth', launcher='torchrun')


@pytest.mark.parametrize('name', ['train', 'test'])
def test_tools_pass_their_flags_as_keywords(name, monkeypatch):
    tool = load_tool(name)
    calls = []
    monkeypatch.setattr(tool, name, lambda **kw: calls.append(kw) or 'ran')
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    argv = [DEMO] + (['c.pth'] if name == 'test' else ['--seed', '2']) + [
        '--work-dir', 'w', '--cfg-options', 'a.b=1', '--local_rank', '1'
    ]
    assert tool.main(argv) == 'ran'
    (settings, ) = calls
    assert settings['config'] == DEMO and settings['work_dir'] == 'w'
    assert settings['cfg_options'] == {'a.b': 1}
    assert 'local_rank' not in settings
    assert os.environ['LOCAL_RANK'] == '1'
    # every flag is a keyword of the library function
    signature = launch.train_config if name == 'train' else launch.test_config
    assert set(settings) <= set(signature.__code__.co_varnames)
