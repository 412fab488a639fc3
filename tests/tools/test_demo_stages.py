"""``make demo`` (``tools/demo.py``, :mod:`hman_lab.demo`) reuses demo
data only if they are the data it expects, and an interrupted demo resumes
its stages (issue 21, item 5); every stage saves every epoch and Ctrl-C
prints one line (issue 34). The stages' commands are recorded, not
run."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from hman_lab import demo as lab_demo
from hman_lab.demo import BACKBONE_CONFIG
from hman_mmaction.datasets.synthetic_actions import (BOXES_SUFFIX,
                                                      DEMO_COUNTS, DEMO_SEED,
                                                      GENERATOR_VERSION,
                                                      SEGMENTS_SUFFIX, SPLITS,
                                                      SyntheticActionSpec)
from tests.helpers import REPO, load_tool


class Stop(Exception):
    """Raised by the recorder at the HM-AN training command."""


@pytest.fixture
def demo(monkeypatch, tmp_path):
    """The demo tool with the lab's ``run`` recording its commands; paths
    in ``tmp_path`` (absolute, so REPO is not touched)."""
    tool = load_tool('demo')
    commands = []

    def record(command):
        commands.append(command)
        if 'train.py' in command[1] and BACKBONE_CONFIG not in command:
            raise Stop

    monkeypatch.setattr(lab_demo, 'run', record)
    tool.commands = commands
    tool.argv = [
        '--data-root',
        str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'work')
    ]
    return tool


def fake_data(root, counts=DEMO_COUNTS, seed=DEMO_SEED):
    """The files ``stale_reason`` reads, with these settings."""
    os.makedirs(root)
    for split in SPLITS:
        open(osp.join(root, f'{split}_list_videos.txt'), 'w').close()
        open(osp.join(root, f'{split}{SEGMENTS_SUFFIX}'), 'w').close()
        open(osp.join(root, f'{split}{BOXES_SUFFIX}'), 'w').close()
    open(osp.join(root, 'classnames.txt'), 'w').close()
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(
            dict(
                spec=asdict(SyntheticActionSpec()),
                seed=seed,
                counts=counts,
                generator_version=GENERATOR_VERSION), f)


def generated(commands):
    return any('make_synthetic_actions.py' in c[1] for c in commands)


def test_demo_data_of_another_size_are_regenerated(demo, tmp_path, capsys):
    fake_data(str(tmp_path / 'data'), counts=dict(train=3, val=2, test=2))
    with pytest.raises(Stop):
        demo.main(demo.argv)
    assert generated(demo.commands)
    assert 'counts' in capsys.readouterr().out


def test_the_expected_demo_data_are_reused(demo, tmp_path):
    fake_data(str(tmp_path / 'data'))
    with pytest.raises(Stop):
        demo.main(demo.argv)
    assert not generated(demo.commands)


def test_an_interrupted_demo_resumes_its_trainings(demo, tmp_path):
    fake_data(str(tmp_path / 'data'))
    with pytest.raises(Stop):
        demo.main(demo.argv)  # the first run: stages stamped, no resume
    first = [c for c in demo.commands if 'train.py' in c[1]]
    assert all('--resume' not in c for c in first)
    tsn = tmp_path / 'work' / 'tsn_backbone'
    tsn.mkdir()
    (tsn / 'epoch_3.pth').write_bytes(b'')  # killed in epoch 4 of 10
    demo.commands.clear()
    with pytest.raises(Stop):
        demo.main(demo.argv)
    [tsn_train, hman_train] = [c for c in demo.commands if 'train.py' in c[1]]
    assert '--resume' in tsn_train and '--resume' not in hman_train
    assert any(a.startswith('load_from=') for a in hman_train)
    (tmp_path / 'work' / 'epoch_2.pth').write_bytes(b'')  # HM-AN killed
    demo.commands.clear()
    with pytest.raises(Stop):
        demo.main(demo.argv)
    [hman_train] = [c for c in demo.commands if 'train.py' in c[1]]
    assert '--resume' in hman_train  # its own checkpoint, no TSN rerun
    assert not any(a.startswith('load_from=') for a in hman_train)


def test_a_work_dir_of_other_data_is_moved_aside(demo, tmp_path):
    fake_data(str(tmp_path / 'data'))
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'epoch_12.pth').write_bytes(b'')  # no stamp: unknown data
    with pytest.raises(Stop):
        demo.main(demo.argv)
    hman_train = demo.commands[-1]  # after the TSN's (moved aside too)
    assert '--resume' not in hman_train
    assert any(a.startswith('load_from=') for a in hman_train)
    aside = [p for p in os.listdir(tmp_path) if p.startswith('work.stale-')]
    assert len(aside) == 1
    assert (tmp_path / aside[0] / 'epoch_12.pth').exists()


def test_every_training_stage_saves_every_epoch(demo, tmp_path):
    fake_data(str(tmp_path / 'data'))
    with pytest.raises(Stop):
        demo.main(demo.argv)
    [tsn_train] = [c for c in demo.commands if BACKBONE_CONFIG in c]
    intervals = [a for a in tsn_train if 'checkpoint.interval=' in a]
    assert intervals[-1] == 'default_hooks.checkpoint.interval=1'  # last wins
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, lab_demo.DEMO_CONFIG))
    assert cfg.default_hooks.checkpoint.interval == 1  # the HM-AN stage
    assert cfg.default_hooks.checkpoint.get('by_epoch', True)


# Python's own Ctrl-C handler, as in a terminal: a test run started as a
# shell's background job inherits SIGINT ignored, and Python keeps that.
CTRL_C = """
import signal
import sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from hman_lab import demo
stage = [sys.executable, '-c',
         'import time; print("stage running", flush=True); time.sleep(120)']
demo.demo_stages = lambda args: demo.run(stage)
demo.run_demo(None)
"""


def test_ctrl_c_stops_the_stage_and_says_in_one_line_how_to_continue():
    process = subprocess.Popen([sys.executable, '-c', CTRL_C],
                               cwd=REPO,
                               env=dict(os.environ, PYTHONPATH=REPO),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               text=True,
                               start_new_session=True)
    try:
        for line in process.stdout:  # wait until the stage runs
            if 'stage running' in line:
                break
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGINT)  # what the terminal sends
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [lab_demo.INTERRUPTED]
