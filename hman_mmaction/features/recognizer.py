"""Head-only recognizer: trains / tests a recognition head on cached
backbone features (:class:`~.dataset.CachedFeatureDataset`)."""
from typing import Optional

import torch
from mmaction.models.recognizers import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import OptConfigType, SampleList
from mmengine.model import BaseModel


@MODELS.register_module()
class CachedFeatureRecognizer(BaseRecognizer):
    """``Recognizer2D`` with the backbone already applied.

    ``extract_feat`` is the identity on the cached features: inputs
    ``[N, S, C, H, W]`` (S = all frames of all views of a clip) become
    ``x = [N*S, C, H, W]`` with ``num_segs = S``, exactly what
    ``Recognizer2D`` hands its head after the backbone, so ``cls_head`` is
    the end-to-end config's head unchanged (and its ``cls_head.*`` weights
    load into the end-to-end model).

    Args:
        cls_head (dict): the head config.
        data_preprocessor (dict, optional): defaults to
            ``ActionDataPreprocessor()``: stacks the float16 records and
            casts them to float32 (the features are already normalised).
        train_cfg, test_cfg (dict, optional): as for ``BaseRecognizer``.
        backbone, neck: must be None (the backbone ran at extraction).
    """

    def __init__(self,
                 cls_head: dict,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 backbone: Optional[dict] = None,
                 neck: Optional[dict] = None) -> None:
        if backbone is not None or neck is not None:
            raise ValueError(
                'CachedFeatureRecognizer runs on cached backbone features '
                'and takes no backbone/neck; replace the whole model section '
                "(model = dict(_delete_=True, type='CachedFeatureRecognizer',"
                ' cls_head=_base_.model.cls_head)), as the cached-feature '
                'configs of hman-mmaction do')
        BaseModel.__init__(
            self,
            data_preprocessor=data_preprocessor
            or dict(type='ActionDataPreprocessor'))
        self.backbone_from = 'feature_store'
        self.cls_head = MODELS.build(cls_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck',
                     data_samples: SampleList = None,
                     test_mode: bool = False) -> tuple:
        """``[N, S, C, H, W]`` -> ``([N*S, C, H, W], dict(num_segs=S))``;
        ``stage='head'`` also runs the head."""
        if inputs.dim() != 5:
            raise ValueError(
                'CachedFeatureRecognizer expects cached features [N, S, C, H,'
                f' W], got shape {tuple(inputs.shape)}; use '
                'CachedFeatureDataset')
        expected = getattr(self.cls_head, 'in_channels', None)
        if expected is not None and inputs.shape[2] != expected:
            raise ValueError(
                f'the cached features have {inputs.shape[2]} channels but '
                f'model.cls_head.in_channels={expected}: the store was made '
                'with another backbone than this head expects')
        num_segs = inputs.shape[1]
        x = inputs.reshape((-1, ) + inputs.shape[2:])
        kwargs = dict(num_segs=num_segs, loss_aux=dict())
        if test_mode:
            kwargs['fcn_test'] = False
        if stage == 'head':
            x = self.cls_head(x, **kwargs)
        return x, kwargs
