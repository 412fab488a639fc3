"""The profile categories: read from shapes, and they add up to the
profiled total."""
import torch

from hman_lab.speed.profile import CATEGORIES, categorise, profile_step

V, T, C, K = 8, 16, 2048, 49
ARGS = dict(views=V, steps=T, map_numel=V * T * C * K, map_rows=V * T * K)


def test_categories_from_shapes():
    assert categorise('aten::mm', [[2048, 6272], [6272, 256]], 1,
                      **ARGS) == 'map GEMMs'
    assert categorise('aten::addmm', [[2049], [8, 1536], [1536, 2049]], 16,
                      **ARGS) == 'per-step thin GEMMs'
    assert categorise('aten::bmm', [[8, 2048, 49], [8, 49, 1]], 16,
                      **ARGS) == 'per-step frame products'
    assert categorise('aten::mm', [[2049, 128], [128, 1536]], 1,
                      **ARGS) == 'once-per-sequence GEMMs'
    assert categorise('aten::copy_', [[128, 2048, 49], [128, 2048, 49]], 1,
                      **ARGS) == 'whole-map memory passes'
    assert categorise('aten::tanh', [[8, 49, 256]], 16,
                      **ARGS) == 'elementwise and small ops'
    # oneDNN's GEMM counts as a GEMM
    assert categorise('mkldnn::_linear_pointwise',
                      [[8, 1536], [2049, 1536], [2049]], 16,
                      **ARGS) == 'per-step thin GEMMs'
    assert categorise('mkldnn::_linear_pointwise', [[256, 2048], [6272, 2048]],
                      1, **ARGS) == 'map GEMMs'


def test_profile_of_a_step_adds_up():
    x = torch.randn(2 * 3, 4, 2, 2, requires_grad=True)
    weight = torch.randn(5, 4, requires_grad=True)

    def step():
        keys = x.flatten(2).transpose(1, 2) @ weight.t()
        keys.tanh().sum().backward()

    times = profile_step(step, tuple(x.shape), 3)
    assert set(times) == set(CATEGORIES) | {'total'}
    assert times['total'] > 0
    assert abs(sum(times[c] for c in CATEGORIES) - times['total']) < 1e-6
    assert times['map GEMMs'] > 0  # the [N*K, C] x [C, 5] product
