"""mm_nt: a @ b^T (+ bias) on the backend the plan names, oneDNN's GEMM or
F.linear; same values either way, strided operands taken as they are."""
import pytest
import torch
import torch.nn.functional as F

from hman_mmaction.models import gemm

ONEDNN = pytest.mark.skipif(
    not gemm.onednn_gemm_available(), reason='torch without oneDNN')


@pytest.mark.parametrize('backend',
                         ['torch',
                          pytest.param('onednn', marks=ONEDNN)])
@pytest.mark.parametrize('transposed', [(False, False), (True, False),
                                        (False, True), (True, True)])
@pytest.mark.parametrize('with_bias', [True, False])
def test_values_equal_linear_for_strided_operands(transposed, with_bias,
                                                  backend):
    torch.manual_seed(0)
    a = torch.randn(7, 5)
    b = torch.randn(4, 5)
    a = a.t().contiguous().t() if transposed[0] else a
    b = b.t().contiguous().t() if transposed[1] else b
    bias = torch.randn(4) if with_bias else None
    torch.testing.assert_close(
        gemm.mm_nt(a, b, bias, backend),
        F.linear(a, b, bias),
        rtol=1e-5,
        atol=1e-5)


def test_torch_products_keep_autograd():
    a = torch.randn(3, 2, requires_grad=True)
    b = torch.randn(4, 2, requires_grad=True)
    gemm.mm_nt(a, b).sum().backward()
    torch.testing.assert_close(a.grad, b.sum(0).expand(3, 2))


def _ops(fn):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as p:
        fn()
    return {e.key for e in p.key_averages()}


@ONEDNN
def test_onednn_runs_when_the_plan_names_it():
    a, b = torch.randn(8, 16), torch.randn(32, 16)
    assert 'mkldnn::_linear_pointwise' in _ops(
        lambda: gemm.mm_nt(a, b, None, 'onednn'))
    assert 'mkldnn::_linear_pointwise' not in _ops(
        lambda: gemm.mm_nt(a, b, None, 'torch'))
    assert gemm.onednn_probe(8) is not None
