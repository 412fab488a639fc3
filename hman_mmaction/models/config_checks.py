"""Build-time checks of the ``cls_head`` options of :class:`HMANHead`.

``HMANHead.__init__`` calls :func:`check_head_options` first, before any
layer is built, so a bad value fails with the option's name and the fix
instead of training silently (``rnn.hidden_size=0`` gives a ``Linear(0, C)``
classifier; ``attention.hidden_channels=0`` a uniform attention) or failing
deep inside torch (negative sizes). A misspelt key names ``HMANHead`` and
the nearest valid key with its place (``num_layer`` -> ``rnn.num_layers``),
instead of ``BaseHead.__init__() got an unexpected keyword argument``.
:func:`check_components` checks, once the parts are built, the ones that
need each other (the score-function estimator and its loss, the next-step
predictor and its readers, the rate loss's rates and the detectors).

:func:`check_frames` is the run-time half: the backbone's output
channels are only known at the first forward pass, and a mismatch with
``in_channels`` otherwise ends in a bare matrix-shape error.
"""
import difflib
import inspect
from typing import Dict, Iterable, List, Optional, Tuple

from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS

from .step_inputs import CHANGE_FEATURES

#: arguments the head's builder fills in, never set in a config
_FILLED_BY_HEAD = {
    'input_size', 'feat_channels', 'query_channels', 'in_features',
    'change_size', 'target_features'
}

#: the head's loss options, in the order of its loss dict (and log)
LOSS_SLOTS = ('loss_attention', 'loss_entropy', 'loss_score_function',
              'loss_boundary', 'loss_predict', 'loss_segment', 'loss_aux')

#: float options of earlier versions, now loss components
_RENAMED = {
    'att_reg_weight':
    "loss_attention=dict(type='AttentionCoverageLoss', loss_weight={v})",
    'bnd_reg_weight':
    "loss_boundary=dict(type='BoundaryRateLoss', loss_weight={v}, "
    'target_rate=...)',
    'bnd_target_rate':
    "loss_boundary=dict(type='BoundaryRateLoss', loss_weight=2.0, "
    'target_rate={v})',
    'aux_loss_weight':
    "loss_aux=dict(type='CrossEntropyLoss', loss_weight={v})",
}

#: options of earlier versions that are gone, and why
_REMOVED = {
    'gemm':
    "oneDNN's GEMM measured no gain over torch's on the project's CPU "
    '(docs/performance.md); every product runs on torch\'s GEMM',
}


def _check_renamed(kwargs: dict) -> None:
    for old, why in _REMOVED.items():
        if old in kwargs:
            raise TypeError(f'HMANHead option `cls_head.{old}` was removed: '
                            f'{why}. Remove it from the config.')
    for old, new in _RENAMED.items():
        if old in kwargs:
            value = kwargs[old]
            off = isinstance(
                value,
                (int, float)) and value == 0 and (old != 'bnd_target_rate')
            fix = ('None (the loss is off)' if off else new.format(
                v=repr(value)))
            raise TypeError(
                f'HMANHead option `cls_head.{old}` is now a loss component: '
                f'set `cls_head.{_new_name(new)}` = {fix} instead '
                '(hman_mmaction/models/losses, docs/configs.md)')


def _new_name(new: str) -> str:
    return new.split('=')[0]


def _check_predictor_moved(loss_predict) -> None:
    """``target`` and ``layer`` of ``loss_predict`` (before the predictor
    became a head component) belong to ``predictor``."""
    if not isinstance(loss_predict, dict):
        return
    moved = {
        k: loss_predict[k]
        for k in ('target', 'layer') if k in loss_predict
    }
    if moved:
        given = ', '.join(f'{k}={v!r}' for k, v in moved.items())
        raise TypeError(
            f'HMANHead option `cls_head.loss_predict` has {given}: the '
            'next-step predictor is a head component now. Set `cls_head.'
            f"predictor=dict(type='NextStepPredictor', {given})` and keep "
            "loss_predict=dict(type='NextStepPredictionLoss', loss_weight="
            '...) for its loss (docs/configs.md)')


def _parameters(cls) -> Tuple[List[str], bool]:
    """Keyword names of ``cls.__init__`` and whether it takes ``**kwargs``."""
    names, var_kw = [], False
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if param.kind is param.VAR_KEYWORD:
            var_kw = True
        elif name != 'self' and param.kind is not param.VAR_POSITIONAL:
            names.append(name)
    return names, var_kw


def _component_class(cfg) -> Optional[type]:
    if not isinstance(cfg, dict) or 'type' not in cfg:
        return None
    kind = cfg['type']
    return kind if inspect.isclass(kind) else MODELS.get(kind)


def _valid_keys(head_cls, components: dict) -> Dict[str, str]:
    """``{key: its place in cls_head}`` for every settable option."""
    places = {}
    for sub, cfg in components.items():
        cls = _component_class(cfg)
        if cls is None:
            continue
        for name in _parameters(cls)[0]:
            if name not in _FILLED_BY_HEAD:
                places.setdefault(name, f'{sub}.{name}')
    for cls in (head_cls, BaseHead):  # the head's own keys win
        for name in _parameters(cls)[0]:
            places[name] = name
    return places


def _unknown_key_error(owner: str, key: str, places: Dict[str, str],
                       where: str) -> TypeError:
    close = difflib.get_close_matches(key, list(places), n=1, cutoff=0.6)
    hint = ''
    if close:
        place = places[close[0]]
        hint = (f' Did you mean `{close[0]}`? Set it as '
                f'`cls_head.{place}`' +
                (f' (inside the `{place.split(".")[0]}` dict).'
                 if '.' in place else '.'))
    valid = sorted(k for k, p in places.items() if p.startswith(where)
                   if where or '.' not in p)
    return TypeError(f'{owner} got an unknown option `{where}{key}`.{hint} '
                     f'Valid keys here: {", ".join(valid)}.')


def _check_keys(owner: str, given: Iterable[str], allowed: Iterable[str],
                places: Dict[str, str], where: str) -> None:
    allowed = set(allowed)
    for key in given:
        if key not in allowed:
            raise _unknown_key_error(owner, key, places, where)


def _positive(name: str, value, fix: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f'HMANHead option `cls_head.{name}` must be a positive integer, '
            f'got {value!r}. {fix}')


def check_head_options(head_cls, options: dict) -> None:
    """Check the ``HMANHead.__init__`` arguments ``options`` (its
    ``locals()``): unknown keys, sizes and ratios; raises ``TypeError`` /
    ``ValueError`` naming the option and the fix."""
    rnn = options.get('rnn') or {}
    attention = options.get('attention') or {}
    components = dict(
        rnn=rnn, attention=attention, predictor=options.get('predictor'))
    kwargs = dict(options.get('kwargs') or {})
    _check_renamed(kwargs)
    places = _valid_keys(head_cls, components)
    base_keys, _ = _parameters(BaseHead)
    _check_keys(head_cls.__name__, kwargs, base_keys, places, '')

    for sub, cfg in components.items():
        cls = _component_class(cfg)
        if cls is None:
            continue
        names, var_kw = _parameters(cls)
        if not var_kw:
            given = [k for k in cfg if k != 'type']
            _check_keys(f'{head_cls.__name__} ({cls.__name__})', given,
                        set(names) - _FILLED_BY_HEAD, places, f'{sub}.')

    _positive('num_classes', options.get('num_classes'),
              'Set it to the number of classes of the dataset.')
    _positive(
        'in_channels', options.get('in_channels'),
        "Set it to the backbone's output channels (2048 for "
        'ResNet-50).')
    _positive(
        'feat_channels',
        options.get('feat_channels'),
        'Leave it out (None) for no projection, or give the size D '
        'of the projected features.',
        allow_none=True)
    _positive(
        'rnn.hidden_size', rnn.get('hidden_size', 1),
        'A hidden size of 0 builds a Linear(0, num_classes) '
        'classifier that learns nothing; use e.g. 512.')
    _positive('rnn.num_layers', rnn.get('num_layers', 1),
              'Use 1 for an attention LSTM, 2 or more for HM-AN.')
    _positive(
        'rnn.output_size',
        rnn.get('output_size'),
        'Leave it out to use rnn.hidden_size.',
        allow_none=True)
    if attention.get('score', 'content') == 'content':
        _positive(
            'attention.hidden_channels', attention.get('hidden_channels', 1),
            'With 0 hidden channels every attention score is 0 and '
            'the attention stays uniform; use e.g. 256.')
    _positive(
        'attention.num_locations',
        attention.get('num_locations'),
        "Set it to H*W of the backbone's feature map (49 for 7x7).",
        allow_none=True)
    _check_choice('attention_query', options.get('attention_query'),
                  head_cls.QUERIES)
    _check_choice('init_state', options.get('init_state'),
                  head_cls.INIT_STATES)
    _check_choice('temporal_pool', options.get('temporal_pool'),
                  head_cls.POOLS)
    for kind in options.get('change_features') or ():
        _check_choice('change_features', kind, CHANGE_FEATURES)
    fused = options.get('fused_sequence', 'auto')
    if not (isinstance(fused, bool) or fused == 'auto'):
        raise ValueError(
            "HMANHead fused_sequence must be 'auto' (the faster loop of the "
            'device: the fast path on a CPU, the reference loop on CUDA), '
            f'True (the fast path) or False (the reference loop), got '
            f'{fused!r}')
    graphs = options.get('cuda_graphs', 'auto')
    if not (isinstance(graphs, bool) or graphs in ('auto', 'compile')):
        raise ValueError(
            "HMANHead cuda_graphs must be 'auto' or True (CUDA training "
            "steps replay a captured CUDA graph), 'compile' (torch.compile("
            "mode='reduce-overhead') instead) or False (always eager), got "
            f'{graphs!r} (docs/performance.md)')
    segments = options.get('num_segments')
    if isinstance(segments, int) and segments < 1:
        raise ValueError(f'num_segments must be >= 1, got {segments}')
    dropout = options.get('dropout_ratio', 0.0)
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(
            'HMANHead option `cls_head.dropout_ratio` must be in [0, 1), '
            f'got {dropout!r}. Use 0 to disable dropout.')
    for name in LOSS_SLOTS:
        value = options.get(name)
        if value is not None and not (isinstance(value, dict)
                                      and 'type' in value):
            raise TypeError(
                f'HMANHead option `cls_head.{name}` must be a loss config '
                f"dict(type=..., loss_weight=...) or None, got {value!r}")
    _check_predictor_moved(options.get('loss_predict'))
    predictor = options.get('predictor')
    if predictor is not None and not (isinstance(predictor, dict)
                                      and 'type' in predictor):
        raise TypeError(
            'HMANHead option `cls_head.predictor` must be a component '
            "config dict(type='NextStepPredictor', ...) or None, got "
            f'{predictor!r}')


def _check_choice(name, value, choices) -> None:
    if value not in choices:
        raise ValueError(f'HMANHead {name} must be one of {choices}, '
                         f'got {value!r}')


def check_components(head) -> None:
    """The built parts that need each other (module doc); raises
    ``ValueError`` naming the fix."""
    _check_score_function(
        head.attention, head.losses['loss_score_function']
        if 'loss_score_function' in head.losses else None)
    _check_predictor(head)
    if 'loss_boundary' in head.losses:
        head.losses['loss_boundary'].check_detectors(
            getattr(head.rnn, 'num_detectors', head.rnn.num_layers))


_PREDICTOR = ("predictor=dict(type='NextStepPredictor', target='frame') "
              "with loss_predict=dict(type='NextStepPredictionLoss', "
              'loss_weight=1.0)')


def _check_predictor(head) -> None:
    """The predictor is trained by ``loss_predict`` and read by
    ``change_features=['pred_error']`` and ``loss_segment``'s
    ``score='pred_error'``: each needs the other."""
    predictor = head.predictor
    segment = head.losses['loss_segment'] \
        if 'loss_segment' in head.losses else None
    readers = []
    if 'pred_error' in head.change_features:
        readers.append("change_features 'pred_error'")
    if getattr(segment, 'score', None) == 'pred_error':
        readers.append("loss_segment score='pred_error'")
    if 'loss_predict' in head.losses:
        readers.append('loss_predict')
    if predictor is None and readers:
        raise ValueError(
            f'HMANHead {readers[0]} reads the next-step predictor\'s '
            f'error: set {_PREDICTOR} (or drop {readers[0]})')
    if predictor is None:
        return
    if 'loss_predict' not in head.losses:
        raise ValueError(
            'HMANHead predictor learns from loss_predict alone: set '
            "loss_predict=dict(type='NextStepPredictionLoss', loss_weight="
            '1.0), or leave the predictor out')
    if predictor.layer > head.rnn.num_layers:
        raise ValueError(
            f'HMANHead predictor layer={predictor.layer} but the HM-LSTM '
            f'has {head.rnn.num_layers} layers')


def _check_score_function(attention, loss) -> None:
    """The score-function estimator and its loss come together: the
    sample carries no gradient, so without the loss the attention would not
    learn; without the estimator the loss would add a second gradient."""
    estimator = getattr(attention, 'estimator', None)
    if loss is not None and estimator != 'score_function':
        raise ValueError(
            'HMANHead loss_score_function needs attention=dict(type='
            "'GumbelHardAttention', estimator='score_function'), got "
            f'{type(attention).__name__} with estimator={estimator!r}: set '
            'the estimator, or leave loss_score_function out')
    if loss is None and estimator == 'score_function':
        raise ValueError(
            "HMANHead attention estimator='score_function' needs "
            "loss_score_function=dict(type='AttentionScoreFunctionLoss') "
            '(the sample carries no gradient: without it the attention '
            "does not learn), or use estimator='straight_through'")


def check_frames(x, in_channels: int, num_segments: int) -> None:
    """``x`` is ``[V*T, C, H, W]``: whole views of ``T = num_segments``
    frames of the head's ``in_channels``."""
    if x.dim() != 4:
        raise ValueError(
            f'HMANHead expects backbone features [N*T, C, H, W], got shape'
            f' {tuple(x.shape)}; use it with Recognizer2D and no neck')
    check_feature_channels(x.shape[1], in_channels)
    if x.shape[0] % num_segments:
        raise ValueError(
            f'HMANHead got {x.shape[0]} frames, not a multiple of '
            f'num_segments={num_segments}. Set cls_head.num_segments to the '
            'num_clips of the SampleFrames step in your pipelines.')


def check_feature_channels(channels: int, in_channels: int) -> None:
    """Refuse backbone features whose channel count is not the head's
    ``in_channels``, naming both numbers."""
    if channels != in_channels:
        raise ValueError(
            f'HMANHead was built with in_channels={in_channels} but the '
            f'backbone outputs {channels} channels. Set '
            f'`model.cls_head.in_channels={channels}` (or change the '
            'backbone) so that both agree.')
