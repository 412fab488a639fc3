"""One decision per forward pass: the head's option (``fused_sequence``,
set by the config alone and validated) and the grad / autocast / compile
state give one plan (``HMANHead.plan``), made once per ``run`` and
taken by the one loop and every component; nothing else in the models
reads that state; outside the checked torch range of the private APIs a
training step falls back to the reference loop with one warning and the
same values and gradients."""
import os
import re

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.models import hman_head, plan
from hman_mmaction.models.deferred import private_api_problem
from tests.helpers import REPO, run_python

C, T, HW, V = 12, 4, 3, 2


def build_head(**options):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=5,
            in_channels=C,
            num_segments=T,
            feat_channels=6,
            rnn=dict(type='HMLSTM', hidden_size=8, num_layers=2),
            attention=dict(type='SoftAttention', hidden_channels=7),
            dropout_ratio=0.0,
            **options))
    head.init_weights()
    return head.train()


def features(grad=True):
    torch.manual_seed(1)
    return torch.randn(V * T, C, HW, HW, requires_grad=grad)


def taken_plans(head, monkeypatch, call):
    """The plans the head's loop receives while ``call()`` runs (with the
    path its inputs were picked for), and how many plans ``run`` made."""
    seen, made = [], []
    loop, pick = type(head)._loop, type(head)._sequence

    def spy(self, x, chosen, *rest):
        seen.append(('_loop', chosen))
        return loop(self, x, chosen, *rest)

    def picked(self, x, chosen):
        seen.append(('_sequence', chosen))
        return pick(self, x, chosen)

    monkeypatch.setattr(type(head), '_loop', spy)
    monkeypatch.setattr(type(head), '_sequence', picked)
    decide = hman_head.decide_plan

    def counting(*args, **kwargs):
        made.append(decide(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(hman_head, 'decide_plan', counting)
    call()
    monkeypatch.undo()
    return seen, made


def test_the_ucf101_config_selects_the_reference_loop(monkeypatch):
    cfg = Config.fromfile(os.path.join(REPO, 'configs', 'hman_ucf101.py'))
    cfg.merge_from_dict({'model.cls_head.fused_sequence': False})
    head = MODELS.build(cfg.model.cls_head)
    assert head.fused_sequence is False
    x = torch.randn(16, 2048, 2, 2)
    seen, made = taken_plans(head, monkeypatch,
                             lambda: head.run(x).cls_scores.sum().backward())
    assert [name for name, _ in seen] == ['_loop', '_sequence']
    assert len(made) == 1 and made[0].path == 'reference'
    default = MODELS.build(
        Config.fromfile(os.path.join(REPO, 'configs',
                                     'hman_ucf101.py')).model.cls_head)
    assert default.fused_sequence == 'auto'


@pytest.mark.parametrize('options,error', [
    (dict(fused_sequence='yes'), ValueError),
    (dict(fused_sequence=1), ValueError),
    (dict(cuda_graphs='always'), ValueError),
    (dict(fused_sequences=False), TypeError),
    (dict(gemm='onednn'), TypeError),
])
def test_speed_options_are_validated(options, error):
    with pytest.raises(error) as info:
        build_head(**options)
    name = next(iter(options)).rstrip('s')
    assert name in str(info.value)


def run_step(head, grad=True):
    x = features(grad)
    out = head.run(x)
    if grad:
        out.cls_scores.pow(2).sum().backward()


@pytest.mark.parametrize('case', [
    'reference', 'fast-train', 'fast-no-grad', 'fast-autocast', 'compile',
    'compile-reference'
])
def test_each_plan_is_made_once_and_taken(case, monkeypatch):
    head = build_head(
        fused_sequence=case not in ('reference', 'compile-reference'))
    if case == 'fast-no-grad':
        head.eval()

        def call():
            with torch.no_grad():
                run_step(head, grad=False)
    elif case == 'fast-autocast':

        def call():
            with torch.autocast('cpu', dtype=torch.bfloat16):
                run_step(head)
    elif case.startswith('compile'):
        torch._dynamo.reset()

        def call():
            compiled = torch.compile(
                lambda x: head.run(x).cls_scores,
                fullgraph=True,
                backend='eager')
            compiled(features()).pow(2).sum().backward()
    else:

        def call():
            run_step(head)

    seen, made = taken_plans(head, monkeypatch, call)
    assert len(made) == 1 and [name
                               for name, _ in seen] == ['_loop', '_sequence']
    taken = seen[0][1]
    assert taken is made[0] and seen[1][1] is taken
    expected = dict(
        reference=('reference', True, None),
        **{
            'fast-train': ('fast', True, None),
            'fast-no-grad': ('fast', False, None),
            'fast-autocast': ('fast', True, torch.bfloat16),
            'compile': ('compile', True, None),
            'compile-reference': ('reference', True, None)
        })[case]
    assert (taken.path, taken.grad, taken.autocast) == expected
    assert taken.deferred_weights == (case in ('fast-train', 'fast-autocast'))
    assert taken.map_functions == (case == 'fast-train')


def test_components_take_the_plan_they_are_given():
    """The map, the per-step layers and the cells follow the plan whatever
    the grad mode at the call (they do not look at it)."""
    head = build_head()
    x = features()
    eager = plan.Plan('fast', grad=True)
    compiled = plan.Plan('compile', grad=True)
    from hman_mmaction.models.feature_map import FeatureMap
    assert FeatureMap(x, T, eager).deferred
    assert not FeatureMap(x, T, compiled).deferred
    assert all(c.deferred for c in head.rnn.sequence_cells(eager))
    assert not any(c.deferred for c in head.rnn.sequence_cells(compiled))
    layers = head.attention.sequence_layers(head.feat_proj, eager)
    assert layers.query.deferred and layers.fold is None


def test_no_other_module_reads_the_grad_autocast_or_compile_state():
    """The plan is the one place that decides (hman_mmaction/models); the
    CUDA-graph option reads the same state through ``plan.call_state``."""
    state = re.compile(r'is_grad_enabled|is_compiling|is_autocast_enabled|'
                       r'get_autocast_dtype')
    folder = os.path.join(REPO, 'hman_mmaction', 'models')
    readers = sorted(
        name for name in os.listdir(folder) if name.endswith('.py')
        and state.search(open(os.path.join(folder, name)).read()))
    assert readers == ['plan.py']


def test_the_path_is_set_by_the_config_alone():
    """No environment variable and no process-wide setter: a head's
    ``fused_sequence`` is its config's (or the default)."""
    result = run_python(
        '''
        import hman_mmaction
        from mmaction.registry import MODELS
        from mmengine.registry import init_default_scope
        init_default_scope('mmaction')
        cfg = dict(type='HMANHead', num_classes=3, in_channels=4,
                   num_segments=2)
        default = MODELS.build(cfg)
        chosen = MODELS.build(dict(cfg, fused_sequence=False))
        print(default.fused_sequence, chosen.fused_sequence)
        ''',
        env=dict(HMAN_FUSED_SEQUENCE='0'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ['auto', 'False']
    import hman_mmaction.models as models
    assert not hasattr(models, 'set_fused_sequence')


def grads_of(head, x):
    head.zero_grad(set_to_none=True)
    x.grad = None
    torch.manual_seed(2)  # same Gumbel noise
    out = head.run(x)
    loss = out.cls_scores.pow(2).sum() + out.attention.pow(2).sum()
    loss.backward()
    named = {
        n: p.grad.clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    named['input'] = x.grad.clone()
    return out, named


@pytest.mark.parametrize('broken', ['version', 'missing'])
def test_without_the_private_apis_training_falls_back_to_the_reference(
        broken, monkeypatch, logged):
    head = build_head()
    x = features()
    fast_out, fast = grads_of(head, x)
    assert head.plan(x).path == 'fast'
    monkeypatch.setattr(plan, '_WARNED', set())
    if broken == 'version':
        monkeypatch.setattr(torch, '__version__', '2.99.0')
    else:
        monkeypatch.delattr(torch._C, '_current_graph_task_id')
    assert private_api_problem() is not None
    assert head.plan(x).path == 'reference'
    with torch.no_grad():  # inference needs no private API
        assert head.plan(x).path == 'fast'
    out, fallback = grads_of(head, x)
    grads_of(head, x)  # a second step: no second warning
    warnings = [m for m in logged if 'takes the reference loop' in m]
    assert len(warnings) == 1
    assert ('2.99.0' if broken == 'version' else
            '_current_graph_task_id') in warnings[0]
    head.fused_sequence = False
    ref_out, reference = grads_of(head, x)
    torch.testing.assert_close(out.cls_scores, ref_out.cls_scores)
    assert set(fallback) == set(reference) == set(fast)
    for name, grad in reference.items():
        torch.testing.assert_close(fallback[name], grad, msg=name)
        torch.testing.assert_close(
            fast[name], grad, rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(
        fast_out.cls_scores, ref_out.cls_scores, rtol=1e-5, atol=1e-5)


def test_the_checked_range_is_stated_and_holds_here():
    from hman_mmaction.models import deferred
    assert deferred.PRIVATE_APIS_CHECKED == '>=2.11,<2.14'
    assert private_api_problem('2.13.0+cpu') is None
    assert private_api_problem('2.11.0+cu130') is None
    assert 'checked on torch' in private_api_problem('2.10.1')
    assert 'checked on torch' in private_api_problem('2.14.0')
