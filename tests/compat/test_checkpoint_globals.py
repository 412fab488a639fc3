"""torch>=2.6 loads with weights_only=True: mmengine checkpoints load thanks
to an exact allow-list, and anything else is still refused."""
import os
import pickle

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn
from torch.utils.data import Dataset

from tests.helpers import run_python

WEIGHTS_ONLY_DEFAULT = tuple(
    int(v) for v in torch.__version__.split('+')[0].split('.')[:2]) >= (2, 6)


class ToyModel(__import__('mmengine').model.BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else [out]


class ToyData(Dataset):
    metainfo = dict(classes=('a', 'b'))

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)))


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory):
    """A checkpoint saved by an mmengine Runner (message hub included)."""
    work_dir = tmp_path_factory.mktemp('toy_run')
    runner = Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(),
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        experiment_name='toy')
    runner.train()
    return str(work_dir / 'epoch_1.pth')


def pickled_globals(path):
    """``module.name`` of every GLOBAL / STACK_GLOBAL in a torch zip file."""
    import pickletools
    import zipfile
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith('data.pkl'))
        ops = list(pickletools.genops(archive.read(name)))
    found, strings = set(), []
    for opcode, arg, _ in ops:
        if opcode.name == 'GLOBAL':
            found.add(arg.replace(' ', '.'))
        elif opcode.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE'):
            strings.append(arg)
        elif opcode.name == 'STACK_GLOBAL':
            found.add('.'.join(strings[-2:]))
    return {g.replace('__builtin__.', 'builtins.') for g in found}


def test_allow_list_covers_exactly_what_the_checkpoint_pickles(
        mmengine_checkpoint):
    from hman_mmaction.compat.checkpoint_globals import \
        mmengine_checkpoint_globals
    ours = {
        entry[1] if isinstance(entry, tuple) else
        f'{entry.__module__}.{entry.__qualname__}'
        for entry in mmengine_checkpoint_globals()
    }
    needed = {
        g
        for g in pickled_globals(mmengine_checkpoint)
        # torch's own defaults: tensors, OrderedDict, bytes
        if not g.startswith(('torch.', 'collections.', '_codecs.'))
    }
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in needed
    assert needed <= ours


def test_mmengine_checkpoint_loads_with_weights_only(mmengine_checkpoint):
    checkpoint = torch.load(mmengine_checkpoint, weights_only=True)
    scalars = checkpoint['message_hub']['log_scalars']
    assert isinstance(scalars['train/loss'], HistoryBuffer)
    assert len(scalars['train/loss'].data[0]) == 2  # two iterations
    assert 'state_dict' in _load_checkpoint(mmengine_checkpoint)


@pytest.mark.skipif(
    not WEIGHTS_ONLY_DEFAULT,
    reason='torch<2.6 does not default to weights_only')
def test_mmengine_checkpoint_fails_without_the_fix(mmengine_checkpoint):
    result = run_python(
        f'''
        import hman_mmaction
        from mmengine.runner.checkpoint import _load_checkpoint
        _load_checkpoint({mmengine_checkpoint!r})
    ''',
        disable=['checkpoint_globals'])
    assert result.returncode != 0
    assert 'HistoryBuffer' in result.stderr


class RunsShellCommand:
    """Pickles to os.system(<command>): must never run on load."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


class GetsAttribute:

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_checkpoint_with_os_system_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save(
        dict(state_dict={}, meta=RunsShellCommand(f'touch {marker}')), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path)  # the default: weights_only=True
    with pytest.raises(pickle.UnpicklingError):
        _load_checkpoint(str(path))
    assert not marker.exists()


@pytest.mark.parametrize('name', ['__init__', 'update', '__dict__'])
def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path, name):
    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=GetsAttribute(HistoryBuffer, name)), path)
    with pytest.raises(pickle.UnpicklingError, match='Refused getattr'):
        torch.load(path)


def test_getattr_of_a_statistic_method_loads(tmp_path):
    path = tmp_path / 'stat.pth'
    torch.save(dict(meta=GetsAttribute(HistoryBuffer, 'mean')), path)
    assert torch.load(path)['meta'] is HistoryBuffer.mean


def test_allow_list_alone_loads_with_mmengines_own_loader(mmengine_checkpoint):
    """The allow-list patch only registers safe globals: with the loader
    patch off, mmengine's own loader (torch's weights-only default) loads
    the checkpoint."""
    result = run_python(
        f'''
        import hman_mmaction
        from mmengine.runner.checkpoint import (CheckpointLoader,
                                                _load_checkpoint)
        loader = CheckpointLoader._schemes['']
        print('LOADER', loader.__module__, loader.__name__)
        print('KEYS', sorted(_load_checkpoint({mmengine_checkpoint!r})))
    ''',
        disable=['weights_only_loader'])
    assert result.returncode == 0, result.stderr
    assert 'LOADER mmengine.runner.checkpoint load_from_local' in \
        result.stdout
    assert "'message_hub'" in result.stdout
