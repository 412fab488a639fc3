"""tools/visualize_hman.py on a generated video with freshly initialised
models: all four outputs, with the right shapes, counts and segments."""
import json
import os.path as osp

import cv2
import decord
import numpy as np
import pytest

from hman_mmaction.visualization import (attention_grid_size,
                                         boundary_figure_inches,
                                         visualize_video)
from hman_mmaction.visualization.segments import step_runs
from tests.helpers import load_tool, run_tool
from .conftest import FPS, HARD, NUM_FRAMES, SOFT

T, L, C = 8, 2, 12  # the demo config's num_segments, layers, classes


def check_outputs(paths, trace=None):
    with open(paths['json']) as f:
        record = json.load(f)
    # JSON: one entry per step, per layer
    assert record['num_steps'] == T and record['num_layers'] == L
    assert record['total_frames'] == NUM_FRAMES and record['fps'] == FPS
    assert len(record['frame_inds']) == T
    assert len(record['attention']) == T
    grid_h, grid_w = record['feature_grid']
    assert all(
        len(a) == grid_h and len(a[0]) == grid_w for a in record['attention'])
    assert np.allclose(
        np.asarray(record['attention']).sum((1, 2)), 1, atol=1e-4)
    assert len(record['boundaries']) == L
    assert all(len(z) == T and set(z) <= {0, 1} for z in record['boundaries'])
    assert np.asarray(record['step_scores']).shape == (T, C)
    assert len(record['step_predictions']) == T
    assert len(record['attended_cells']) == T
    # segments: one per run of steps the layer's boundaries cut
    for layer, segments in enumerate(record['segments_per_layer']):
        z = record['boundaries'][layer]
        assert [(s['start_step'], s['end_step'])
                for s in segments] == step_runs(z)
        assert segments[0]['start_frame'] == 0
        assert segments[-1]['end_frame'] == NUM_FRAMES - 1
        for a, b in zip(segments, segments[1:]):
            assert b['start_frame'] == a['end_frame'] + 1
            assert b['start_frame'] == record['frame_inds'][b['start_step']]
    assert record['segments'] == record['segments_per_layer'][-1]
    # attention grid: one panel per step, boundary plot: frames, L rows, tau
    # (matplotlib truncates inches * dpi: allow one pixel of rounding)
    grid = cv2.imread(paths['attention_grid'])
    assert np.allclose(grid.shape[1::-1], attention_grid_size(T), atol=1)
    w, h = boundary_figure_inches(T, L, True, True)
    assert np.allclose(
        cv2.imread(paths['boundaries']).shape[:2], (h * 100, w * 100), atol=1)
    # annotated video: every frame of the original
    assert len(decord.VideoReader(paths['video'])) == NUM_FRAMES
    return record


@pytest.mark.slow  # the CLI in a fresh interpreter
def test_tool_writes_the_four_outputs_for_soft_attention(
        video, soft_checkpoint, tmp_path):
    names = tmp_path / 'classnames.txt'
    names.write_text('\n'.join(f'class_{i}' for i in range(C)) + '\n')
    result = run_tool([
        'tools/visualize_hman.py', SOFT, soft_checkpoint, video, '--out',
        str(tmp_path / 'out'), '--class-names',
        str(names)
    ])
    assert result.returncode == 0, result.stdout[-3000:]
    stem = osp.join(tmp_path, 'out', 'up_left')
    record = check_outputs(
        dict(
            json=stem + '_hman.json',
            attention_grid=stem + '_attention.png',
            boundaries=stem + '_boundaries.png',
            video=stem + '_annotated.mp4'))
    assert not record['hard_attention']
    assert record['tau_attention'] is None  # soft attention has no tau
    assert record['prediction']['class_name'].startswith('class_')
    assert all(s['class_name'].startswith('class_')
               for s in record['segments'])
    assert 'annotated video (20 frames)' in result.stdout


def test_hard_attention_json_marks_one_cell_per_step(video, hard_checkpoint,
                                                     tmp_path):
    out = visualize_video(
        HARD, hard_checkpoint, video, str(tmp_path), progress=False)
    record = check_outputs(out)
    assert record['hard_attention']
    att = np.asarray(record['attention']).reshape(T, -1)
    assert np.all(att.max(1) == 1) and np.all((att == 1).sum(1) == 1)
    width = record['feature_grid'][1]
    assert [r * width + c
            for r, c in record['attended_cells']] == list(att.argmax(1))
    assert len(record['tau_attention']) == T  # adaptive temperature per step
    assert record['prediction']['class_name'].isdigit()  # no names: indices


def test_video_of_a_generated_dataset_gets_its_ground_truth_changes(
        soft_checkpoint, video, tmp_path):
    from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                          boxes_for_video,
                                                          generate_dataset,
                                                          segments_for_video)
    from hman_mmaction.evaluation import change_steps
    spec = SyntheticActionSpec(
        size=32,
        num_frames=NUM_FRAMES,
        fps=FPS,
        object_size=5,
        num_distractors=1)
    data = generate_dataset(
        str(tmp_path / 'data'), dict(test=1), spec, seed=2, progress=False)
    clip = osp.join(data.video_root, 'test', '00000.mp4')
    segments = segments_for_video(clip)
    assert segments is not None and len(segments) == 2
    assert segments_for_video(video) is None  # not in a generated dataset
    boxes = boxes_for_video(clip)
    assert len(boxes['target']) == NUM_FRAMES
    assert len(boxes['distractors'][0]) == 1
    assert boxes_for_video(video) is None
    out = visualize_video(
        SOFT, soft_checkpoint, clip, str(tmp_path / 'out'), progress=False)
    record = check_outputs(out)
    assert record['gt_segments'] == segments
    assert record['gt_change_steps'] == change_steps(record['frame_inds'],
                                                     segments)
    assert len(record['gt_change_steps']) == 1


@pytest.mark.parametrize('case, message', [
    ('missing video', 'video not found'),
    ('not hman', 'not HMANHead'),
    ('bad class names', 'class names'),
])
def test_tool_fails_with_a_clear_message(video, soft_checkpoint, tmp_path,
                                         case, message):
    config, clip, extra = SOFT, video, []
    if case == 'missing video':
        clip = str(tmp_path / 'nope.mp4')
    elif case == 'not hman':
        config = 'configs/demo/tsn_demo.py'
    else:
        names = tmp_path / 'names.txt'
        names.write_text('a\nb\n')
        extra = ['--class-names', str(names)]
    with pytest.raises(SystemExit) as error:  # sys.exit(message), no trace
        load_tool('visualize_hman').main(
            [config, soft_checkpoint, clip, '--out',
             str(tmp_path / 'out')] + extra)
    assert message in str(error.value.code)
    assert not osp.exists(tmp_path / 'out' / 'up_left_hman.json')
