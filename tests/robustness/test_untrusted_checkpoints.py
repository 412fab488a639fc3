"""A checkpoint whose pickle calls ``os.system`` is refused by ``--resume``
(explicit and automatic), ``load_from``, ``tools/test.py`` and
``init_recognizer`` with a message naming the file and the global, and the
payload never runs, unless the user opted out with torch's
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``."""
import os

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from hman_mmaction.compat.checkpoint_globals import UntrustedCheckpointError
from tests.helpers import call_tool, data_overrides

DEMO = 'configs/hman_demo.py'


class RunsShellCommand:
    """Pickles to ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


@pytest.fixture
def evil(tmp_path):
    """(checkpoint path, marker path): loading runs ``touch marker``."""
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save(
        dict(
            meta=dict(epoch=1, iter=4),
            state_dict=RunsShellCommand(f'touch {marker}')), path)
    return str(path), marker


def assert_refused(message, path):
    assert 'Refused to load checkpoint' in message
    assert path in message
    assert 'system' in message  # the global: posix.system / nt.system
    assert 'never unpickles arbitrary code' in message
    assert 'add_safe_globals' in message  # how to allow-list if trusted


def test_the_payload_would_run_if_unpickled(evil):
    """The fixture is a real exploit (a control for the tests below)."""
    path, marker = evil
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_mmengine_loading_refuses_it_and_names_file_and_global(evil):
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError) as info:
        _load_checkpoint(path)
    assert_refused(str(info.value), path)
    assert not marker.exists()


def test_the_users_explicit_opt_out_is_respected_with_one_warning(
        evil, monkeypatch):
    """``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is torch's documented opt-out:
    the plugin loads as mmengine does without it (issue 34), and torch
    says so in one warning."""
    import warnings
    path, marker = evil
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        _load_checkpoint(path)
    assert marker.exists()  # the user's choice: a full unpickle
    notes = [
        w for w in caught
        if 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' in str(w.message)
    ]
    assert len(notes) == 1


def test_init_recognizer_refuses_it(evil):
    from mmaction.apis import init_recognizer
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError) as info:
        init_recognizer(DEMO, path, device='cpu')
    assert_refused(str(info.value), path)
    assert not marker.exists()


@pytest.mark.parametrize('how', ['resume', 'auto_resume', 'load_from', 'test'])
def test_the_tools_refuse_it(how, evil, tiny_dataset, tmp_path):
    path, marker = evil
    work_dir = tmp_path / 'work'
    options = data_overrides(tiny_dataset.root) + ['train_cfg.max_epochs=1']
    if how == 'test':
        tool, args = 'test', [DEMO, path]
    else:
        tool, args = 'train', [DEMO]
        if how == 'resume':
            args += ['--resume', path]
        elif how == 'auto_resume':  # last_checkpoint names the evil file
            work_dir.mkdir()
            (work_dir / 'last_checkpoint').write_text(path)
            args += ['--resume']
        else:
            options.append(f'load_from={path}')
    result = call_tool(
        tool,
        args + ['--work-dir', str(work_dir), '--cfg-options'] + options)
    assert result.returncode != 0
    assert 'UntrustedCheckpointError' in result.stdout
    assert_refused(result.stdout, path)
    assert 'Epoch(train)' not in result.stdout
    assert not marker.exists()
