"""Ordinary mistakes get an error before the expensive work, or the fix
that works (issue 21, items 2-5): ``--dump``/``--show-dir`` paths that
cannot be written, ``--launcher pytorch`` without torchrun, ``--boundaries``
on a model without boundary detectors, ``NoBoundary`` through
``--cfg-options``, a 36-class list with a 12-class config, a path whose
spaces ``--cfg-options`` removed."""
import os

import pytest
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

from hman_mmaction.datasets import AnnotationError
from hman_mmaction.engine.launch import test_config
from tests.helpers import call_tool

HMAN = 'configs/hman_demo.py'
ATTLSTM = 'configs/demo/attlstm_demo.py'


# ------------------------------------------------------- output paths
def test_dump_under_a_file_is_refused_before_the_test(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    with pytest.raises(PermissionError) as info:
        test_config(HMAN, 'ckpt.pth', dump=str(blocker / 'out' / 'p.pkl'))
    assert str(blocker) in str(info.value)
    assert 'before the run' in str(info.value)


def test_dump_that_is_a_folder_is_refused(tmp_path):
    folder = tmp_path / 'out.pkl'
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match='predictions.pkl'):
        test_config(HMAN, 'ckpt.pth', dump=str(folder))


def test_dump_into_new_folders_is_fine(tmp_path):
    cfg = test_config(
        HMAN, 'ckpt.pth', dump=str(tmp_path / 'new' / 'deeper' / 'p.pkl'))
    assert cfg.test_evaluator[-1]['type'] == 'DumpResults'


def test_the_test_tool_stops_before_loading_anything(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    result = call_tool('test', [
        HMAN, 'missing.pth', '--work-dir',
        str(tmp_path / 'w'), '--dump',
        str(blocker / 'p.pkl')
    ])
    assert result.returncode != 0
    assert 'PermissionError' in result.stdout
    assert 'Loads checkpoint' not in result.stdout


def test_show_dir_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    with pytest.raises(PermissionError, match='--show-dir'):
        test_config(HMAN, 'ckpt.pth', show_dir=str(blocker / 'vis'))


# ------------------------------------------------------------ launcher
@pytest.mark.parametrize('launcher, variable, hint', [
    ('pytorch', 'RANK', 'dist_train.sh'),
    ('slurm', 'SLURM_PROCID', 'srun'),
])
def test_a_launcher_without_its_environment_says_how_to_start(
        monkeypatch, launcher, variable, hint):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(RuntimeError) as info:
        test_config(HMAN, 'ckpt.pth', launcher=launcher)
    message = str(info.value)
    assert variable in message and hint in message
    assert 'drop --launcher' in message


# ------------------------------------------------------------ boundaries
def test_boundaries_on_a_model_without_detectors_says_so(logged):
    cfg = test_config(ATTLSTM, 'ckpt.pth', boundaries=True)
    evaluators = cfg.test_evaluator
    evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
    assert 'BoundaryMetric' not in [e['type'] for e in evaluators]
    text = '\n'.join(logged)
    assert 'no boundary detector' in text
    assert "'NoBoundary'" in text


@pytest.mark.parametrize('config', [
    HMAN, 'configs/demo/ablations/hman-oracle-bnd_demo.py',
    'configs/demo/ablations/hman-random-bnd_demo.py'
])
def test_boundaries_on_models_with_detectors_still_add_the_metric(config):
    cfg = test_config(config, 'ckpt.pth', boundaries=True)
    assert cfg.test_evaluator[-1]['type'] == 'BoundaryMetric'


def test_no_boundary_through_cfg_options_points_at_the_ablation_configs():
    cfg = Config.fromfile(HMAN)
    cfg.merge_from_dict({'model.cls_head.rnn.boundary.type': 'NoBoundary'})
    with pytest.raises(TypeError) as info:
        MODELS.build(cfg.model)
    message = str(info.value)
    assert "['temperature']" in message
    assert 'configs/demo/attlstm_demo.py' in message
    assert '_delete_=True' in message


# ---------------------------------------------------------- annotations
def build(ann_file, prefix, num_classes=12):
    return DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=ann_file,
            data_prefix=dict(video=prefix),
            pipeline=[],
            num_classes=num_classes))


def test_36_class_data_with_a_12_class_config_advises_num_classes(tmp_path):
    videos = tmp_path / 'videos'
    videos.mkdir()
    lines = []
    for index in range(72):
        (videos / f'{index}.mp4').write_bytes(b'')
        lines.append(f'{index}.mp4 {index % 36}')
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('\n'.join(lines) + '\n')
    with pytest.raises(AnnotationError) as info:
        build(str(ann_file), str(videos))
    message = str(info.value)
    assert 'model.cls_head.num_classes=36' in message
    assert 'train_dataloader.dataset.num_classes=36' in message
    assert 'or set skip_invalid=True' not in message


def test_one_stray_label_still_offers_skip_invalid(tmp_path):
    videos = tmp_path / 'videos'
    videos.mkdir()
    lines = []
    for index in range(24):
        (videos / f'{index}.mp4').write_bytes(b'')
        lines.append(f'{index}.mp4 {index % 12}')
    lines[3] = '3.mp4 12'
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('\n'.join(lines) + '\n')
    with pytest.raises(AnnotationError) as info:
        build(str(ann_file), str(videos))
    assert 'or set skip_invalid=True' in str(info.value)
    assert 'num_classes=13' not in str(info.value)


def test_a_path_that_lost_its_spaces_is_named_with_them(tmp_path):
    real = tmp_path / 'my videos'
    real.mkdir()
    (real / 'list.txt').write_text('a.mp4 0\n')
    squeezed = str(tmp_path / 'myvideos' / 'list.txt')  # --cfg-options'
    with pytest.raises(FileNotFoundError) as info:
        build(squeezed, str(real))
    message = str(info.value)
    assert os.path.join(str(real), 'list.txt') in message
    assert 'config file' in message
    assert 'train_dataloader.dataset.ann_file=PATH' not in message


def test_a_video_prefix_that_lost_its_spaces_is_named_with_them(tmp_path):
    real = tmp_path / 'my videos'
    real.mkdir()
    (real / 'a.mp4').write_bytes(b'')
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('a.mp4 0\n')
    with pytest.raises(AnnotationError) as info:
        build(str(ann_file), str(tmp_path / 'myvideos'))
    message = str(info.value)
    assert str(real) in message and 'removes every space' in message
    assert 'or set skip_invalid=True' not in message


# ------------------------------------------- other tools' output paths
@pytest.mark.parametrize('tool, argv', [
    ('benchmark', ['--json', '{bad}/b.json']),
    ('ablate', [HMAN, '--out', '{bad}/grid.md']),
    ('extract_features', [HMAN, 'none.pth', '--out', '{bad}/store']),
    ('visualize_hman', [HMAN, 'none', 'v.mp4', '--out', '{bad}/figs']),
])
def test_tools_check_their_output_paths_first(tmp_path, tool, argv):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    result = call_tool(tool, [a.format(bad=blocker) for a in argv])
    assert result.returncode != 0
    assert 'PermissionError' in result.stdout, result.stdout[-2000:]
    assert 'cannot write into' in result.stdout
