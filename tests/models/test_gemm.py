"""mm_nt: a @ b^T (+ bias) on oneDNN where it applies (float32 CPU, outside
autograd), F.linear otherwise; same values either way."""
import pytest
import torch
import torch.nn.functional as F

from hman_mmaction.models import gemm


@pytest.mark.parametrize('transposed', [(False, False), (True, False),
                                        (False, True), (True, True)])
@pytest.mark.parametrize('with_bias', [True, False])
def test_values_equal_linear_for_strided_operands(transposed, with_bias):
    torch.manual_seed(0)
    a = torch.randn(7, 5)
    b = torch.randn(4, 5)
    a = a.t().contiguous().t() if transposed[0] else a
    b = b.t().contiguous().t() if transposed[1] else b
    bias = torch.randn(4) if with_bias else None
    torch.testing.assert_close(
        gemm.mm_nt(a, b, bias), F.linear(a, b, bias), rtol=1e-5, atol=1e-5)


def test_where_onednn_applies():
    a, b = torch.randn(3, 2), torch.randn(4, 2)
    expected = gemm.use_onednn_gemm()
    assert gemm.onednn_applies(a, b, None) == expected
    assert not gemm.onednn_applies(a.double(), b.double())
    assert not gemm.onednn_applies(torch.randn(2, 3, 2), b)
    w = b.clone().requires_grad_()
    assert not gemm.onednn_applies(a, w)  # autograd would record
    with torch.no_grad():
        assert gemm.onednn_applies(a, w) == expected
    gemm.set_onednn_gemm(False)
    try:
        assert not gemm.onednn_applies(a, b)
    finally:
        gemm.set_onednn_gemm(True)


def test_recorded_products_keep_autograd():
    a = torch.randn(3, 2, requires_grad=True)
    b = torch.randn(4, 2, requires_grad=True)
    gemm.mm_nt(a, b).sum().backward()
    torch.testing.assert_close(a.grad, b.sum(0).expand(3, 2))


@pytest.mark.skipif(
    not gemm.onednn_gemm_available(), reason='torch without oneDNN')
def test_onednn_runs_when_it_applies():
    from torch.profiler import ProfilerActivity, profile
    a, b = torch.randn(8, 16), torch.randn(32, 16)
    with profile(activities=[ProfilerActivity.CPU]) as p:
        gemm.mm_nt(a, b)
    names = {e.key for e in p.key_averages()}
    assert 'mkldnn::_linear_pointwise' in names
    assert gemm.onednn_probe(8) is not None
