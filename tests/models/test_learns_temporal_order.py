"""A tiny Recognizer2D + HMANHead must fit clips whose label is only the
temporal order of their frames (an order-blind model cannot)."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

T, SIZE, MAX_STEPS = 4, 32, 300


def order_only_clips(num_clips=8, seed=0):
    """Pairs of clips built from the same four frames: two showing a red
    square, two a green one. Label 0 plays red first, label 1 green first.
    Positions and noise vary per pair, so within a pair only the order
    differs."""
    g = torch.Generator().manual_seed(seed)
    clips, labels = [], []
    for _ in range(num_clips // 2):
        red = torch.rand(T // 2, 3, SIZE, SIZE, generator=g) * 20
        green = torch.rand(T // 2, 3, SIZE, SIZE, generator=g) * 20
        (rx, ry), (gx, gy) = torch.randint(
            0, SIZE - 8, (2, 2), generator=g).tolist()
        red[:, 0, ry:ry + 8, rx:rx + 8] = 255.0
        green[:, 1, gy:gy + 8, gx:gx + 8] = 255.0
        clips += [torch.cat([red, green]), torch.cat([green, red])]
        labels += [0, 1]
    return torch.stack(clips), labels


TINY_BACKBONE = dict(
    type='ResNet',
    depth=18,
    num_stages=2,
    out_indices=(1, ),
    strides=(1, 2),
    dilations=(1, 1),
    pretrained=None)
PREPROCESSOR = dict(
    type='ActionDataPreprocessor',
    mean=[127.5] * 3,
    std=[127.5] * 3,
    format_shape='NCHW')


def tiny_recognizer(boundary):
    return MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=TINY_BACKBONE,
            cls_head=dict(
                type='HMANHead',
                num_classes=2,
                in_channels=128,
                num_segments=T,
                dropout_ratio=0.0,
                rnn=dict(
                    type='HMLSTM',
                    hidden_size=32,
                    num_layers=2,
                    boundary=boundary),
                attention=dict(type='SoftAttention', hidden_channels=32)),
            data_preprocessor=PREPROCESSOR))


def preprocess(model, clips, labels, training):
    return model.data_preprocessor(
        dict(
            inputs=list(clips),
            data_samples=[
                ActionDataSample().set_gt_label(label) for label in labels
            ]),
        training=training)


def test_an_order_blind_model_scores_both_clips_of_a_pair_equally():
    """Guards the data: TSN (mean over frames) cannot tell a pair apart."""
    tsn = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=TINY_BACKBONE,
            cls_head=dict(
                type='TSNHead',
                num_classes=2,
                in_channels=128,
                average_clips=None),
            data_preprocessor=PREPROCESSOR)).eval()
    clips, labels = order_only_clips()
    with torch.no_grad():
        scores = tsn(**preprocess(tsn, clips, labels, False), mode='tensor')
    scores = tsn.cls_head(scores, num_segs=T)
    assert torch.allclose(scores[0::2], scores[1::2], atol=1e-5)


@pytest.mark.parametrize(
    'boundary', [
        dict(
            type='GumbelBoundary',
            temperature=dict(type='AdaptiveTemperature')),
        dict(type='NoBoundary')
    ],
    ids=['gumbel', 'no-boundary'])
def test_tiny_recognizer_overfits_order_dependent_clips(boundary):
    model = tiny_recognizer(boundary)
    model.init_weights()
    model.train()
    clips, labels = order_only_clips()
    data = preprocess(model, clips, labels, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    start = None
    for step in range(MAX_STEPS):
        losses = model(**data, mode='loss')
        loss = losses['loss_cls']
        start = loss.item() if start is None else start
        if loss.item() < 0.1 * start:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'{boundary["type"]}: {start:.3f} -> {loss.item():.3f} '
          f'in {step} steps')
    assert loss.item() < 0.1 * start, (
        f'loss {loss.item():.4f} after {step + 1} steps, start {start:.4f}')
