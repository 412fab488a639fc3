"""The demo data generator: order-dependent classes, real mp4 files that
mmaction2's decord pipeline reads, seeded and balanced."""
import numpy as np
import pytest
from mmaction.registry import DATASETS

from hman_mmaction.datasets.synthetic_actions import (MOTIONS,
                                                      SyntheticActionSpec,
                                                      class_names,
                                                      generate_dataset,
                                                      order_swapped_pairs,
                                                      target_path)


def test_classes_are_ordered_sequences_and_reversals_are_paired():
    names = class_names(SyntheticActionSpec())
    assert len(names) == 12 and 'up-left' in names and 'left-up' in names
    assert all(a != b for a, b in (n.split('-') for n in names))
    pairs = order_swapped_pairs(names)
    assert len(pairs) == 6
    for i, j in pairs:
        assert names[i].split('-') == names[j].split('-')[::-1]
    three = class_names(SyntheticActionSpec(lengths=(2, 3)))
    assert len(three) == 12 + 4 * 3 * 3


def test_target_moves_as_its_motions_in_order():
    spec = SyntheticActionSpec()
    rng = np.random.default_rng(0)
    path, segment = target_path(rng, ['up', 'left'], spec)
    steps = np.diff(path, axis=0)
    for index, motion in enumerate(['up', 'left']):
        moves = steps[segment[:-1] == index]  # step t -> t+1
        direction = np.sign(moves.mean(axis=0))
        assert tuple(direction) == tuple(np.sign(MOTIONS[motion])), motion
    assert (segment[:-1] <= segment[1:]).all()  # motions in order
    assert path.min() >= 0 and path.max() <= spec.size - spec.object_size


def test_generated_videos_decode_through_the_mmaction2_pipeline(tmp_path):
    spec = SyntheticActionSpec(size=32, num_frames=16, object_size=5)
    data = generate_dataset(str(tmp_path), dict(train=6, test=3), spec,
                            seed=3, progress=False)
    lines = open(data.ann_file('train')).read().split('\n')
    labels = [int(line.split()[1]) for line in lines if line]
    assert len(labels) == 6 and len(set(labels)) == 6  # round-robin classes
    dataset = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file=data.ann_file('train'),
            data_prefix=dict(video=data.video_root),
            pipeline=[
                dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=1, frame_interval=1,
                     num_clips=8, test_mode=True),
                dict(type='DecordDecode'),
                dict(type='FormatShape', input_format='NCHW'),
                dict(type='PackActionInputs')
            ]))
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (8, 3, 32, 32)
    assert sample['data_samples'].gt_label.item() == labels[0]
    # the red target is visible: some pixel is far more red than green/blue
    frame = sample['inputs'][0].float()  # RGB after decord
    assert ((frame[0] - frame[1:].max(0).values) > 100).any()


def test_generation_is_seeded(tmp_path):
    spec = SyntheticActionSpec(size=32, num_frames=8, object_size=5)
    first = generate_dataset(str(tmp_path / 'a'), dict(train=2), spec,
                             seed=7, progress=False)
    again = generate_dataset(str(tmp_path / 'b'), dict(train=2), spec,
                             seed=7, progress=False)
    other = generate_dataset(str(tmp_path / 'c'), dict(train=2), spec,
                             seed=8, progress=False)
    read = lambda d: open(d.ann_file('train')).read()  # noqa: E731
    assert read(first) == read(again)
    video = lambda d: open(d.video_root + '/train/00000.mp4', 'rb').read()  # noqa: E731,E501
    assert video(first) == video(again)
    assert video(first) != video(other)


def test_bad_specs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match='motions'):
        SyntheticActionSpec(motions=('up', 'sideways'))
    with pytest.raises(ValueError, match='lengths'):
        SyntheticActionSpec(lengths=(4, ))


def test_config_overrides_point_every_loader_at_the_dataset():
    from hman_mmaction.datasets.synthetic_actions import config_overrides
    options = config_overrides('/d', batch_size=2, workers=0, num_classes=48)
    assert 'model.cls_head.num_classes=48' in options
    for split in ('train', 'val', 'test'):
        loader = f'{split}_dataloader'
        assert f'{loader}.dataset.ann_file=/d/{split}_list_videos.txt' in \
            options
        assert f'{loader}.dataset.data_prefix.video=/d/videos' in options
        # the checked dataset validates labels against num_classes too
        assert f'{loader}.dataset.num_classes=48' in options
        assert f'{loader}.batch_size=2' in options
        assert f'{loader}.persistent_workers=False' in options
    assert len(config_overrides('/d')) == 6  # paths only
