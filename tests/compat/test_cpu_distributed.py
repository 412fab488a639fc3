"""mmengine's pytorch launcher and DDP wrapper assume CUDA; the plugin lets
them run on CPU with gloo."""
import pytest
import torch

from tests.helpers import run_python, single_process_group_env

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='the CPU path is only taken without '
    'CUDA')

INIT_DIST = '''
import hman_mmaction, torch
from mmengine.dist import init_dist
init_dist('pytorch', backend='nccl')  # mmaction2's default dist_cfg
print('BACKEND', torch.distributed.get_backend())
'''

WRAP_MODEL = '''
import hman_mmaction, torch
from mmengine.dist import init_dist
from mmaction.registry import MODEL_WRAPPERS
init_dist('pytorch', backend='gloo')
model = torch.nn.Linear(3, 2)
wrapped = MODEL_WRAPPERS.build(
    dict(type={wrapper!r}), default_args=dict(module=model, device_ids=[0]))
out = wrapped(torch.randn(4, 3))
out.sum().backward()
print('WRAPPED', type(wrapped).__name__, wrapped.device_ids)
'''


def test_pytorch_launcher_fails_on_cpu_without_the_fix():
    result = run_python(
        INIT_DIST, disable=['cpu_launcher'], env=single_process_group_env())
    assert result.returncode != 0


def test_pytorch_launcher_initialises_gloo_on_cpu():
    result = run_python(INIT_DIST, env=single_process_group_env())
    assert result.returncode == 0, result.stderr
    assert 'BACKEND gloo' in result.stdout
    assert "using the 'gloo' backend instead of 'nccl'" in result.stdout


def test_mmengine_ddp_wrapper_rejects_a_cpu_model():
    result = run_python(
        WRAP_MODEL.format(wrapper='MMDistributedDataParallel'),
        env=single_process_group_env())
    assert result.returncode != 0
    assert 'device_ids' in result.stderr


def test_device_agnostic_ddp_wraps_a_cpu_model():
    result = run_python(
        WRAP_MODEL.format(wrapper='DeviceAgnosticDDP'),
        env=single_process_group_env())
    assert result.returncode == 0, result.stderr
    assert 'WRAPPED DeviceAgnosticDDP None' in result.stdout
