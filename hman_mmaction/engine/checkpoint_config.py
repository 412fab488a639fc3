"""Does a checkpoint's own config match the config it is tested with?

mmengine saves the training config in every checkpoint
(``meta['cfg']``). Weights of the same shapes can still mean another
model: a head trained on 16-step sequences (``num_segments=16``) tested
with the 8-step config, another boundary detector or pooling, or a head
trained on the features of another backbone. :func:`config_differences`
lists what matters for the scores, saved vs running:

* the head: its type and every option that shapes its function (defaults
  filled in from the head's signature, so an omitted default is not a
  difference); options that act only in training (losses and their
  weights, dropout, init, target rates, ``test_cfg``, ``average_clips``,
  ``topk``) and execution choices with the same values (``fused_sequence``,
  ``cuda_graphs``, ``gemm``) are not compared (:data:`TRAINING_ONLY`);
* the input the head's features come from: for a recognizer with a
  backbone, the backbone's and the data preprocessor's config (minus
  training-only keys such as ``frozen_stages``); for the cached-feature
  recognizer, the feature store's fingerprint (its backbone weights hash,
  backbone and preprocessor config), recorded in the checkpoint at
  training time by :class:`FeatureProvenanceHook`, or, for an end-to-end
  checkpoint tested on a store, the hash of the checkpoint's own backbone
  weights.

:func:`check_checkpoint_config` refuses a difference with
:class:`CheckpointConfigError`, or, for the keys listed in the config's
``accept_checkpoint_differences`` (a deliberate change), logs a WARNING
naming each one.
"""
import hashlib
import inspect
import logging
import os.path as osp
import re
from typing import Any, List, NamedTuple, Optional

import torch
from mmaction.registry import HOOKS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from .checkpoint_match import CheckpointMismatchError

#: the config key that makes a difference deliberate: a list of the dotted
#: names :func:`config_differences` reports, or True for all of them
ACCEPT_KEY = 'accept_checkpoint_differences'
#: options that only act in training, or choose how (not what) the head
#: computes (regular expressions on the key): not compared
TRAINING_ONLY = (r'^loss', r'_weight$', r'_target_rate$', r'^dropout',
                 r'^init_std$', r'^init_cfg$', r'^test_cfg$',
                 r'^average_clips$', r'^topk$', r'^pretrained$',
                 r'^frozen_stages$', r'^norm_eval$', r'^with_cp$',
                 r'^partial_bn$', r'^fused_sequence$', r'^gemm$',
                 r'^cuda_graphs$')
CACHED = 'CachedFeatureRecognizer'
META_STORE = 'hman_feature_store'  # checkpoint['meta'] key of the hook
FEATURE_PREFIXES = ('backbone.', 'data_preprocessor.')


class CheckpointConfigError(CheckpointMismatchError):
    """The checkpoint was trained for another model, task or input."""


class Difference(NamedTuple):
    key: str  # dotted name, e.g. 'cls_head.num_segments'
    saved: Any
    running: Any


def _plain(value):
    """Config dicts as plain, comparable values (tuples as lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _training_only(key: str) -> bool:
    return any(re.search(pattern, key) for pattern in TRAINING_ONLY)


def _with_defaults(component: dict) -> dict:
    """``component`` plus the defaults of its registered class's
    signature (read from the signature, not listed here)."""
    component = dict(component)
    try:
        from mmaction.registry import MODELS
        cls = MODELS.get(component.get('type'))
        parameters = inspect.signature(cls.__init__).parameters
    except Exception:  # unknown type or no signature: compare as written
        return component
    for name, parameter in parameters.items():
        if (name not in component
                and parameter.default is not inspect.Parameter.empty
                and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD):
            component[name] = parameter.default
    return component


def _compare(prefix: str, saved, running, out: List[Difference]) -> None:
    if isinstance(saved, dict) and isinstance(running, dict):
        if saved.get('type') != running.get('type'):
            out.append(
                Difference(f'{prefix}.type', saved.get('type'),
                           running.get('type')))
            return
        saved, running = _with_defaults(saved), _with_defaults(running)
        for key in sorted(set(saved) | set(running)):
            if key == 'type' or _training_only(key):
                continue
            _compare(f'{prefix}.{key}', saved.get(key), running.get(key), out)
        return
    if _plain(saved) != _plain(running):
        out.append(Difference(prefix, _plain(saved), _plain(running)))


def saved_config(checkpoint) -> Optional[Config]:
    """The training config stored in an mmengine checkpoint, or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    text = (meta or {}).get('cfg')
    if not isinstance(text, str):
        return None
    try:
        return Config.fromstring(text, '.py')
    except Exception:  # a config text this mmengine cannot read
        return None


def state_dict_feature_sha256(state_dict: dict) -> str:
    """:func:`~hman_mmaction.features.extract.state_dict_sha256` of the
    backbone and preprocessor weights, computed on a checkpoint's state
    dict: equal to a store's ``weights_sha256`` iff the weights are."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        name = re.sub(r'^module\.', '', name)
        if not name.startswith(FEATURE_PREFIXES):
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def store_fingerprint(cfg) -> Optional[dict]:
    """``{'store', 'weights_sha256', 'backbone', 'data_preprocessor'}`` of
    the feature store a cached config's test (else train) dataloader
    reads, or None (no cached model, no store yet)."""
    from ..features.store import FeatureStore
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = ((cfg.get(loader) or {}).get('dataset') or {})
        store = dataset.get('store') if isinstance(dataset, dict) else None
        if store and osp.isfile(osp.join(store, 'manifest.json')):
            manifest = FeatureStore(store).manifest or {}
            fingerprint = manifest.get('fingerprint') or {}
            return dict(
                store=store,
                weights_sha256=fingerprint.get('weights_sha256'),
                backbone=fingerprint.get('backbone'),
                data_preprocessor=fingerprint.get('data_preprocessor'))
    return None


def _feature_differences(saved_model: dict, running_model: dict, checkpoint,
                         running_cfg) -> List[Difference]:
    """What the head's input came from, saved vs running."""
    saved_cached = saved_model.get('type') == CACHED
    running_cached = running_model.get('type') == CACHED
    out: List[Difference] = []
    if not saved_cached and not running_cached:
        for part in ('backbone', 'neck', 'data_preprocessor'):
            _compare(part, saved_model.get(part), running_model.get(part), out)
        return out
    if not running_cached:
        return out  # a head-only checkpoint: missing backbone keys say it
    running = store_fingerprint(running_cfg)
    if running is None:
        return out  # no store to compare with (the dataset will say so)
    if saved_cached:
        saved = ((checkpoint.get('meta') or {}).get(META_STORE))
        if not saved:
            return out  # trained before the provenance was recorded
    else:
        saved = dict(
            store=None,
            weights_sha256=state_dict_feature_sha256(
                checkpoint.get('state_dict', checkpoint)),
            backbone=_plain(saved_model.get('backbone')),
            data_preprocessor=_plain(saved_model.get('data_preprocessor')))
    if saved.get('weights_sha256') != running.get('weights_sha256'):
        out.append(
            Difference(
                'features.weights_sha256',
                f'{str(saved.get("weights_sha256"))[:12]}... '
                f'(store {saved.get("store")})',
                f'{str(running.get("weights_sha256"))[:12]}... '
                f'(store {running["store"]})'))
    for key in ('backbone', 'data_preprocessor'):
        _compare(f'features.{key}', saved.get(key), running.get(key), out)
    return out


def config_differences(checkpoint, running_cfg) -> List[Difference]:
    """What matters for the scores that differs between the config saved
    in ``checkpoint`` and ``running_cfg`` (empty if the checkpoint has no
    readable config)."""
    saved_cfg = saved_config(checkpoint)
    if saved_cfg is None or 'model' not in saved_cfg:
        return []
    saved_model = saved_cfg.model.to_dict() if hasattr(
        saved_cfg.model, 'to_dict') else dict(saved_cfg.model)
    running_model = running_cfg.model
    running_model = running_model.to_dict() if hasattr(
        running_model, 'to_dict') else dict(running_model)
    out: List[Difference] = []
    _compare('cls_head', saved_model.get('cls_head'),
             running_model.get('cls_head'), out)
    out += _feature_differences(saved_model, running_model, checkpoint,
                                running_cfg)
    return out


def _accepted(running_cfg, difference: Difference) -> bool:
    accept = running_cfg.get(ACCEPT_KEY, None)
    if accept is True or accept == 'all':
        return True
    if isinstance(accept, str):
        accept = [accept]
    return any(difference.key == a or difference.key.startswith(f'{a}.')
               for a in (accept or []))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + '...'


def check_checkpoint_config(checkpoint,
                            running_cfg,
                            filename: str,
                            purpose: str = 'testing') -> List[Difference]:
    """Raise :class:`CheckpointConfigError` if ``checkpoint`` was trained
    for another model or input than ``running_cfg`` describes; differences
    named in ``running_cfg.accept_checkpoint_differences`` are logged as a
    WARNING instead. Returns the differences found."""
    differences = config_differences(checkpoint, running_cfg)
    if not differences:
        return differences
    lines = ''.join(f'\n  {d.key}: checkpoint {_short(d.saved)}, config '
                    f'{_short(d.running)}' for d in differences)
    refused = [d for d in differences if not _accepted(running_cfg, d)]
    if refused:
        keys = ','.join(d.key for d in refused)
        raise CheckpointConfigError(
            f'Checkpoint {filename} was trained with another config than '
            f'the one used for {purpose}; what differs (from the config '
            f'saved in the checkpoint, meta["cfg"]):{lines}\nIts scores '
            'would be those of another model or input. Use the config '
            'the checkpoint was trained with (or set these values in '
            'yours), or the checkpoint trained with this config. For a '
            'deliberate change, add --cfg-options '
            f'"{ACCEPT_KEY}=[{keys}]" (in Python: cfg.{ACCEPT_KEY} = '
            f'{[d.key for d in refused]!r}); it is then logged as a '
            'WARNING.')
    print_log(
        f'Checkpoint {filename} was trained with another config '
        f'({ACCEPT_KEY} accepts it deliberately):{lines}',
        logger='current',
        level=logging.WARNING)
    return differences


@HOOKS.register_module()
class FeatureProvenanceHook(Hook):
    """Records in every checkpoint of a cached-feature model the
    fingerprint of the feature store it was trained on
    (``checkpoint['meta']['hman_feature_store']``), which testing compares
    with the store it is tested on."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if type(model).__name__ != CACHED:
            return
        train = runner.cfg.get('train_dataloader') or {}
        fingerprint = store_fingerprint(Config(dict(train_dataloader=train)))
        if fingerprint is not None:
            checkpoint.setdefault('meta', {})[META_STORE] = fingerprint
