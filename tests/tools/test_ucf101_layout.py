"""configs/hman_ucf101.py trains on data laid out as mmaction2's UCF101
tools lay it out (class folders of .avi files, split lists)."""
import os

import cv2
import numpy as np

from tests.helpers import call_tool

CLASSES = ['ApplyEyeMakeup', 'Archery', 'Basketball']


def write_avi(path, frames=24, size=(80, 60), seed=0):
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'XVID'), 25, size)
    assert writer.isOpened()
    for t in range(frames):
        frame = np.full((size[1], size[0], 3), 40, np.uint8)
        x = 5 + 2 * t
        frame[20:35, x:x + 15] = rng.integers(100, 255, 3)
        writer.write(frame)
    writer.release()


def make_ucf101_layout(root):
    """data/ucf101/videos/<Class>/v_<Class>_gXX_cYY.avi and
    ucf101_{train,val}_split_1_videos.txt, as mmaction2's tools write
    them (relative path, space, label)."""
    lines = {'train': [], 'val': []}
    for label, name in enumerate(CLASSES):
        os.makedirs(os.path.join(root, 'videos', name))
        for group in (1, 2):
            relative = f'{name}/v_{name}_g{group:02d}_c01.avi'
            write_avi(
                os.path.join(root, 'videos', relative),
                seed=label * 10 + group)
            split = 'train' if group == 1 else 'val'
            lines[split].append(f'{relative} {label}\n')
    for split, rows in lines.items():
        with open(
                os.path.join(root, f'ucf101_{split}_split_1_videos.txt'),
                'w') as f:
            f.writelines(rows[:1])  # 1 video per list: ResNet-50 on CPU


def test_hman_ucf101_config_trains_one_iteration_on_the_ucf101_layout(
        tmp_path):
    root = tmp_path / 'ucf101'
    make_ucf101_layout(str(root))
    options = ['model.backbone.pretrained=None']  # no download in tests
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader',
                                                          'val')):
        options += [
            f'{loader}.dataset.ann_file={root}/ucf101_{split}_split_1_'
            'videos.txt', f'{loader}.dataset.data_prefix.video={root}/videos',
            f'{loader}.batch_size=1', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False'
        ]
    result = call_tool('train', [
        'configs/hman_ucf101.py', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1'
    ] + options)
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'Epoch(train) [1][1/1]' in result.stdout
    assert 'Epoch(val) [1]' in result.stdout
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
