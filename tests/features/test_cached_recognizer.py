"""The head on cached features computes what the end-to-end recognizer
with the same (frozen) backbone computes on the same frames."""
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

from hman_mmaction.features import CachedFeatureRecognizer, extract_features
from tests.features.conftest import demo_config

CACHED_DEMO = 'configs/cached/hman_demo.py'


def cached_config(store, **head) -> Config:
    cfg = Config.fromfile(CACHED_DEMO)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=4)
        loader.dataset.store = store
    cfg.model.cls_head.update(head)
    return cfg


def first_batch(cfg, split):
    loader = cfg[f'{split}_dataloader'].copy()
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    return next(iter(Runner.build_dataloader(loader, seed=0)))


@pytest.fixture(scope='module')
def twins(tiny_videos, demo_checkpoint, tmp_path_factory):
    """End-to-end and cached recognizers with the same head weights, and a
    store whose train split used the deterministic val sampling."""
    # dropout off; a large classifier init so that the scores of an
    # untrained head depend visibly on the features (with the default
    # init_std=0.01 every loss is log(12) to 3 decimals).
    head = dict(dropout_ratio=0.0, init_std=100.0)
    e2e_cfg = demo_config(tiny_videos.root, **head)
    e2e_cfg.train_dataloader.dataset.pipeline = e2e_cfg.val_pipeline
    store = str(tmp_path_factory.mktemp('store') / 'val_sampling')
    extract_features(
        e2e_cfg,
        demo_checkpoint,
        store,
        splits=['train', 'test'],
        batch_size=4,
        progress=False)
    e2e = MODELS.build(e2e_cfg.model)
    e2e.load_state_dict(torch.load(demo_checkpoint)['state_dict'])
    e2e.cls_head.init_weights()
    c_cfg = cached_config(store, **head)
    cached = MODELS.build(c_cfg.model)
    assert isinstance(cached, CachedFeatureRecognizer)
    cached.cls_head.load_state_dict(e2e.cls_head.state_dict())
    return e2e, e2e_cfg, cached, c_cfg


def test_cached_config_keeps_the_end_to_end_head_config():
    e2e = Config.fromfile('configs/hman_demo.py').model.cls_head
    assert Config.fromfile(CACHED_DEMO).model.cls_head == e2e
    ablation = 'demo/ablations/hman-hardsigmoid-bnd_demo.py'
    assert (Config.fromfile(f'configs/cached/{ablation}').model.cls_head ==
            Config.fromfile(f'configs/{ablation}').model.cls_head)


def test_first_training_iteration_loss_equals_end_to_end_frozen_backbone(
        twins):
    e2e, e2e_cfg, cached, c_cfg = twins
    e2e.train()
    e2e.backbone.eval()  # frozen: BN uses its running statistics
    cached.train()
    batch_e, batch_c = first_batch(e2e_cfg,
                                   'train'), first_batch(c_cfg, 'train')
    data_e = e2e.data_preprocessor(batch_e, True)
    data_c = cached.data_preprocessor(batch_c, True)
    assert data_c['inputs'].dtype == torch.float32
    assert [int(s.gt_label) for s in data_e['data_samples']
            ] == [int(s.gt_label) for s in data_c['data_samples']]
    torch.manual_seed(1)  # the same Gumbel noise in both heads
    loss_e = e2e(**data_e, mode='loss')
    torch.manual_seed(1)
    loss_c = cached(**data_c, mode='loss')
    torch.testing.assert_close(
        loss_c['loss_cls'], loss_e['loss_cls'], rtol=0, atol=1e-3)
    # not trivially equal: the same head on other clips' features (the
    # batch rolled by one) gives a clearly different loss
    torch.manual_seed(1)
    loss_other = cached(
        data_c['inputs'].roll(1, 0), data_c['data_samples'], mode='loss')
    assert abs(loss_other['loss_cls'] - loss_e['loss_cls']) > 1e-2
    # and the scores track the features, clip by clip
    with torch.no_grad():
        torch.manual_seed(1)
        scores_e, _ = e2e.extract_feat(data_e['inputs'], stage='head')
        torch.manual_seed(1)
        scores_c, _ = cached.extract_feat(data_c['inputs'], stage='head')
    error = (scores_e - scores_c).abs().max()
    spread = (scores_e - scores_e.roll(1, 0)).abs().max()
    assert error < 1e-2 * spread, (error, spread)


def test_multi_view_test_predictions_equal_end_to_end(twins):
    e2e, e2e_cfg, cached, c_cfg = twins
    e2e.eval()
    cached.eval()
    with torch.no_grad():
        pred_e = e2e.test_step(first_batch(e2e_cfg, 'test'))
        pred_c = cached.test_step(first_batch(c_cfg, 'test'))
    assert len(pred_e) == len(pred_c) == 4
    for a, b in zip(pred_e, pred_c):
        assert int(a.gt_label) == int(b.gt_label)
        torch.testing.assert_close(
            b.pred_score, a.pred_score, rtol=0, atol=2e-3)


def test_recognizer_rejects_a_backbone_and_a_channel_mismatch():
    head = Config.fromfile(CACHED_DEMO).model.cls_head
    with pytest.raises(ValueError, match='_delete_=True'):
        CachedFeatureRecognizer(cls_head=head, backbone=dict(type='ResNet'))
    model = CachedFeatureRecognizer(cls_head=head)
    with pytest.raises(ValueError, match='in_channels=128'):
        model.extract_feat(torch.zeros(1, 8, 64, 4, 4))
    x, kwargs = model.extract_feat(torch.zeros(2, 8, 128, 4, 4))
    assert x.shape == (16, 128, 4, 4) and kwargs['num_segs'] == 8
