"""The demo data generator: order-dependent classes, real mp4 files that
mmaction2's decord pipeline reads, seeded and balanced."""
import numpy as np
import pytest
from mmaction.registry import DATASETS

from hman_mmaction.datasets.synthetic_actions import (MOTIONS,
                                                      SyntheticActionSpec,
                                                      _draw, class_names,
                                                      generate_dataset,
                                                      order_swapped_pairs,
                                                      render_video,
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
    path, velocity, segment = target_path(rng, ['up', 'left'], spec)
    steps = np.diff(path, axis=0)
    np.testing.assert_allclose(steps, velocity[:-1])
    for index, motion in enumerate(['up', 'left']):
        moves = steps[segment[:-1] == index]  # step t -> t+1
        direction = np.sign(moves.mean(axis=0))
        assert tuple(direction) == tuple(np.sign(MOTIONS[motion])), motion
    assert (segment[:-1] <= segment[1:]).all()  # motions in order


def _frame_positions(sequence, motion, spec, videos=600, bins=4):
    """Histogram over ``bins x bins`` cells of the frame of the target's
    wrapped position in the frames where it does ``motion``."""
    counts = np.zeros((bins, bins))
    for seed in range(videos):
        path, _, segment = target_path(
            np.random.default_rng(seed), sequence, spec)
        frames = segment == sequence.index(motion)
        cells = (path[frames] % spec.size * bins // spec.size).astype(int)
        np.add.at(counts, (cells[:, 0], cells[:, 1]), 1)
    return counts / counts.sum()


@pytest.mark.parametrize('motion', ['up', 'left'])
def test_position_does_not_tell_the_order(motion):
    """A frame's (motion, position) must not reveal the class within an
    order-swapped pair: where the target goes up in 'up-left' videos is
    distributed as in 'left-up' videos (and so for every motion)."""
    spec = SyntheticActionSpec()
    first = _frame_positions(['up', 'left'], motion, spec)
    second = _frame_positions(['left', 'up'], motion, spec)
    total_variation = 0.5 * np.abs(first - second).sum()
    assert total_variation < 0.08, (total_variation, first, second)


def _target_rows_and_cols(frame):
    """Rows and columns holding target (red, BGR) pixels, trail included."""
    red = frame[..., 2].astype(int) - frame[..., :2].max(-1) > 20
    return np.flatnonzero(red.any(1)), np.flatnonzero(red.any(0))


def test_trail_shows_the_current_motion_only():
    """At the first frame of the second motion ('left' after 'up') the
    trail lies along 'left': the turn does not show the previous motion;
    and the first frame already has its full trail."""
    spec = SyntheticActionSpec(size=64, noise=0.0, num_distractors=0)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        _, velocity, segment = target_path(
            np.random.default_rng(seed), ['up', 'left'], spec)
        frames = render_video(rng, ['up', 'left'], spec)
        turn = int(np.argmax(segment == 1))
        rows, cols = _target_rows_and_cols(frames[turn])
        assert len(rows) == spec.object_size  # one horizontal band
        assert len(cols) > spec.object_size  # the trail, to the right
        rows, cols = _target_rows_and_cols(frames[0])
        assert len(cols) == spec.object_size  # going up: a vertical band
        trail = int(np.ceil(spec.trail * abs(velocity[0, 1])))
        assert len(rows) >= spec.object_size + trail - 1


def test_objects_wrap_around_the_borders():
    spec = SyntheticActionSpec(
        size=32, object_size=8, noise=0.0, num_distractors=0, trail=0)
    frame = np.zeros((32, 32, 3), np.uint8)
    _draw(frame, 'square', (28.0, 30.0), 8, (0, 0, 255))
    rows, cols = _target_rows_and_cols(frame)
    assert sorted(rows) == [0, 1, 2, 3, 4, 5, 30, 31]
    assert sorted(cols) == [0, 1, 2, 3, 28, 29, 30, 31]
    assert (frame[..., 2] > 0).sum() == spec.object_size**2


def test_generated_videos_decode_through_the_mmaction2_pipeline(tmp_path):
    spec = SyntheticActionSpec(size=32, num_frames=16, object_size=5)
    data = generate_dataset(
        str(tmp_path), dict(train=6, test=3), spec, seed=3, progress=False)
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
                dict(
                    type='SampleFrames',
                    clip_len=1,
                    frame_interval=1,
                    num_clips=8,
                    test_mode=True),
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
    first = generate_dataset(
        str(tmp_path / 'a'), dict(train=2), spec, seed=7, progress=False)
    again = generate_dataset(
        str(tmp_path / 'b'), dict(train=2), spec, seed=7, progress=False)
    other = generate_dataset(
        str(tmp_path / 'c'), dict(train=2), spec, seed=8, progress=False)

    def read(dataset):
        with open(dataset.ann_file('train')) as f:
            return f.read()

    def video(dataset):
        with open(dataset.video_root + '/train/00000.mp4', 'rb') as f:
            return f.read()

    assert read(first) == read(again)
    assert video(first) == video(again)
    assert video(first) != video(other)


def test_bad_specs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match='motions'):
        SyntheticActionSpec(motions=('up', 'sideways'))
    with pytest.raises(ValueError, match='lengths'):
        SyntheticActionSpec(lengths=(5, ))


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


def test_stale_datasets_are_not_reused(tmp_path):
    """A dataset is reused only when it is complete, made by this
    generator version and with the asked settings; otherwise the reason
    names the file."""
    import json

    from hman_mmaction.datasets.synthetic_actions import (GENERATOR_VERSION,
                                                          stale_reason)
    spec = SyntheticActionSpec(size=32, num_frames=8, object_size=5)
    counts = dict(train=2, val=1, test=1)
    root = str(tmp_path)
    assert 'lacks' in stale_reason(root)
    generate_dataset(root, counts, spec, seed=1, progress=False)
    assert stale_reason(root) is None
    assert stale_reason(root, spec, counts, seed=1) is None
    assert 'seed' in stale_reason(root, spec, counts, seed=2)
    assert 'counts' in stale_reason(root, spec, dict(train=3), seed=1)
    assert 'spec' in stale_reason(root, SyntheticActionSpec(), counts, 1)
    train_only = str(tmp_path / 'train_only')
    only = dict(train=2, val=0, test=0)
    generate_dataset(train_only, only, spec, seed=1, progress=False)
    assert stale_reason(train_only, spec, only, seed=1) is None
    assert 'val_list_videos.txt' in stale_reason(train_only)
    meta_path = tmp_path / 'meta.json'
    meta = json.loads(meta_path.read_text())
    del meta['generator_version']  # as written by version 1
    meta_path.write_text(json.dumps(meta))
    reason = stale_reason(root)
    assert 'meta.json' in reason and 'version 1' in reason
    assert f'version {GENERATOR_VERSION}' in reason


def test_default_videos_are_those_of_generator_version_2():
    """The sidecar and the hierarchical flags leave the default data
    bit-identical (hashes of the frames drawn by version 2)."""
    import hashlib
    small = (('lengths', (2, 3)), ('size', 32), ('object_size', 5),
             ('num_distractors', 1), ('num_frames', 16))
    expected = {
        (): '0910e4cbd256fe7039b95fc5caf690ea5226344dc3f328c4c49f95b451fc7097',
        small:
        '96ae119f396bc0352a2cdec7ce2e203e233fc40dce77ce9879554fd90d521297',
    }
    for fields, digest in expected.items():
        spec = SyntheticActionSpec(**dict(fields))
        names = class_names(spec)
        h = hashlib.sha256()
        for i in range(6):
            h.update(
                render_video(
                    np.random.default_rng([0, 2, i]),
                    names[(i * 5) % len(names)].split('-'), spec).tobytes())
        assert h.hexdigest() == digest, fields


def test_segments_sidecar_is_written_for_every_split_and_is_exact(tmp_path):
    import json

    from hman_mmaction.datasets.synthetic_actions import SPLITS, segments_of
    spec = SyntheticActionSpec(
        size=32, num_frames=12, object_size=5, lengths=(2, 3))
    counts = dict(train=3, val=2, test=2)
    data = generate_dataset(
        str(tmp_path), counts, spec, seed=4, progress=False)
    for split_id, split in enumerate(SPLITS):
        segments = json.loads(open(data.segments_file(split)).read())
        lines = open(data.ann_file(split)).read().split('\n')[:-1]
        assert len(segments) == counts[split]
        for index, line in enumerate(lines):
            path, label = line.split()
            sequence = data.classes[int(label)].split('-')
            segs = segments[path]
            assert [m for _, _, m in segs] == sequence
            assert segs[0][0] == 0 and segs[-1][1] == spec.num_frames
            assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))
            # the labels the video was drawn with (its first rng draws)
            _, velocity, labels = target_path(
                np.random.default_rng([4, split_id, index]), sequence, spec)
            assert segs == segments_of(labels, sequence)
            for start, end, motion in segs:  # it moves that way there
                direction = np.sign(velocity[start:end].mean(0))
                assert tuple(direction) == tuple(np.sign(MOTIONS[motion]))


def test_dataset_without_sidecar_is_stale(tmp_path):
    import os

    from hman_mmaction.datasets.synthetic_actions import stale_reason
    spec = SyntheticActionSpec(size=32, num_frames=8, object_size=5)
    data = generate_dataset(
        str(tmp_path),
        dict(train=2, val=1, test=1),
        spec,
        seed=1,
        progress=False)
    assert stale_reason(data.root) is None
    os.remove(data.segments_file('val'))
    assert 'val_segments.json' in stale_reason(data.root)


def test_checked_dataset_gives_each_video_its_segments(tmp_path):
    import json
    spec = SyntheticActionSpec(size=32, num_frames=8, object_size=5)
    data = generate_dataset(
        str(tmp_path), dict(test=3), spec, seed=1, progress=False)
    dataset = DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=data.ann_file('test'),
            data_prefix=dict(video=data.video_root),
            pipeline=[],
            num_classes=12))
    segments = json.loads(open(data.segments_file('test')).read())
    for i in range(3):
        info = dataset.get_data_info(i)
        assert info['gt_segments'] == segments[f'test/{i:05d}.mp4']


def test_hierarchical_class_counts_and_fixed_subset_with_swapped_pairs():
    from hman_mmaction.datasets.synthetic_actions import hierarchical_spec
    assert len(class_names(SyntheticActionSpec(lengths=(3, )))) == 36
    assert len(class_names(SyntheticActionSpec(lengths=(4, )))) == 108
    assert len(class_names(hierarchical_spec())) == 36
    spec = SyntheticActionSpec(lengths=(4, ), max_classes=24)
    names = class_names(spec)
    assert len(names) == 24 and names == class_names(spec)  # fixed
    assert set(names) <= set(class_names(SyntheticActionSpec(lengths=(4, ))))
    assert len(order_swapped_pairs(names)) == 12  # whole pairs
    # an odd count still keeps pairs, plus one class
    assert len(
        order_swapped_pairs(
            class_names(SyntheticActionSpec(lengths=(3, ),
                                            max_classes=9)))) == 4


def test_strokes_pause_inside_a_motion():
    spec = SyntheticActionSpec(num_frames=40, stroke=3, stroke_pause=2)
    _, velocity, labels = target_path(
        np.random.default_rng(0), ['up', 'left'], spec)
    moving = np.abs(velocity).sum(1) > 0
    for index in (0, 1):
        frames = np.flatnonzero(labels == index)
        pattern = moving[frames]
        k = np.arange(len(frames)) % 5 < 3  # 3 moving, 2 still, ...
        assert (pattern == k).all()


def test_test_split_draws_durations_not_seen_in_training(tmp_path):
    import json
    spec = SyntheticActionSpec(
        size=32,
        num_frames=40,
        object_size=5,
        lengths=(3, ),
        min_segment=0.25,
        max_segment=0.45,
        test_min_segment=0.05,
        test_max_segment=0.9)
    with pytest.raises(ValueError, match='test_max_segment'):
        SyntheticActionSpec(lengths=(2, ), test_max_segment=0.3)
    data = generate_dataset(
        str(tmp_path),
        dict(train=6, val=2, test=6),
        spec,
        seed=0,
        progress=False)

    def shares(split):
        segments = json.loads(open(data.segments_file(split)).read())
        return np.array([(e - s) / 40 for segs in segments.values()
                         for s, e, _ in segs])

    for split in ('train', 'val'):  # val is drawn as training
        assert shares(split).min() >= 0.25 - 1 / 40
        assert shares(split).max() <= 0.45 + 1 / 40
    test = shares('test')
    assert ((test < 0.25 - 1 / 40) | (test > 0.45 + 1 / 40)).any()


def test_make_synthetic_actions_flags_and_hierarchical_preset():
    from hman_mmaction.datasets.synthetic_actions import hierarchical_spec
    from tools.data.make_synthetic_actions import parse_args, spec_from_args
    assert spec_from_args(parse_args(['d'])) == SyntheticActionSpec()
    args = parse_args([
        'd', '--preset', 'hierarchical', '--max-classes', '24', '--stroke',
        '4', '--lengths', '3', '4', '--test-min-segment', '0.1'
    ])
    assert spec_from_args(args) == hierarchical_spec(
        max_classes=24, stroke=4, lengths=(3, 4), test_min_segment=0.1)


def _pixels(pieces):
    """The set of ``(x, y)`` pixels of box pieces."""
    return {(x, y)
            for x0, y0, x1, y1 in pieces
            for x in range(int(x0), int(x1))
            for y in range(int(y0), int(y1))}


def _colored(frame, color):
    ys, xs = np.nonzero((frame == np.array(color, np.uint8)).all(-1))
    return set(zip(xs.tolist(), ys.tolist()))


def test_boxes_are_the_pixels_each_object_is_drawn_on():
    """Without noise, trail and overlaps, the target's colour covers
    exactly its box (wrapping at the borders included) and each
    distractor's colour lies in its box and touches all four sides."""
    from hman_mmaction.datasets.synthetic_actions import (DISTRACTOR_COLORS,
                                                          TARGET_COLOR,
                                                          box_pieces,
                                                          render_action)
    spec = SyntheticActionSpec(size=32, object_size=6, noise=0.0, trail=0)
    wrapped = checked = 0
    for seed in range(6):
        frames, _, boxes = render_action(
            np.random.default_rng(seed), ['up', 'left'], spec)
        assert len(boxes['target']) == spec.num_frames
        for t, frame in enumerate(frames):
            target = _pixels(box_pieces(boxes['target'][t], 32, 32))
            others = [
                _pixels(box_pieces(b, 32, 32)) for b in boxes['distractors'][t]
            ]
            assert len(others) == spec.num_distractors
            if any(target & o for o in others) or (others[0] & others[1]):
                continue  # an object drawn over another
            checked += 1
            wrapped += len(box_pieces(boxes['target'][t], 32, 32)) > 1
            assert _colored(frame, TARGET_COLOR) == target
            for index, pixels in enumerate(others):
                colored = _colored(frame, DISTRACTOR_COLORS[index % 2])
                assert colored and colored <= pixels
                x0, y0, x1, y1 = boxes['distractors'][t][index]
                if x1 <= 32 and y1 <= 32:  # not wrapped: touches each side
                    xs, ys = zip(*colored)
                    assert (min(xs), min(ys), max(xs) + 1,
                            max(ys) + 1) == (x0, y0, x1, y1)
    assert checked > 100 and wrapped > 0


def test_box_pieces_cut_a_box_at_the_torus_borders():
    from hman_mmaction.datasets.synthetic_actions import box_pieces
    assert box_pieces([2, 3, 8, 9], 32, 32) == [(2, 3, 8, 9)]
    assert sorted(box_pieces([30, 29, 36, 35], 32, 32)) == [(0, 0, 4, 3),
                                                            (0, 29, 4, 32),
                                                            (30, 0, 32, 3),
                                                            (30, 29, 32, 32)]


def test_boxes_sidecar_holds_what_was_drawn_and_is_required(tmp_path):
    import json
    import os
    import os.path as osp

    from hman_mmaction.datasets.synthetic_actions import (load_boxes,
                                                          render_action,
                                                          stale_reason)
    spec = SyntheticActionSpec(size=32, num_frames=8, object_size=5)
    data = generate_dataset(
        str(tmp_path), dict(train=2, test=3), spec, seed=2, progress=False)
    boxes = load_boxes(data.ann_file('test'))
    lines = open(data.ann_file('test')).read().split('\n')[:-1]
    for index, line in enumerate(lines):
        path, label = line.split()
        _, _, drawn = render_action(
            np.random.default_rng([2, 2, index]),
            data.classes[int(label)].split('-'), spec)
        assert boxes[path] == json.loads(json.dumps(drawn))
    dataset = DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=data.ann_file('test'),
            data_prefix=dict(video=data.video_root),
            pipeline=[],
            num_classes=12))
    assert dataset.get_data_info(1)['gt_boxes'] == boxes['test/00001.mp4']
    assert stale_reason(data.root, spec, dict(train=2, test=3), 2) is None
    os.remove(osp.join(data.root, 'test_boxes.json'))
    assert 'test_boxes.json' in stale_reason(data.root)


def test_hierarchical_preset_varies_the_number_and_steps_of_changes():
    """No timing prior predicts the changes: clips have 1 to 3 of them, at
    steps spread over the clip."""
    from hman_mmaction.datasets.synthetic_actions import (
        HIERARCHICAL_NUM_SEGMENTS, hierarchical_spec)
    from hman_mmaction.models.segment_targets import change_steps
    spec = hierarchical_spec()
    names = class_names(spec)
    assert {len(n.split('-')) for n in names} == {2, 3, 4}
    rng = np.random.default_rng(0)
    steps = np.arange(HIERARCHICAL_NUM_SEGMENTS) * 3 + 1
    counts, where = set(), set()
    for index in range(60):
        sequence = names[index % len(names)].split('-')
        _, _, labels = target_path(rng, sequence, spec)
        starts = np.flatnonzero(np.diff(labels)) + 1
        segments = [[0, 0, '']] + [[int(s), 0, ''] for s in starts]
        found = change_steps(steps, segments)
        counts.add(len(found))
        where.update(found)
    assert counts >= {1, 2, 3}
    assert len(where) >= 10  # of the 15 steps a change can be seen at
