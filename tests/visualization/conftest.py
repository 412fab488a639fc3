"""Inputs of the visualisation tests: one generated mp4 and checkpoints of
freshly initialised HM-AN models (soft and Gumbel-hard attention)."""
import numpy as np
import pytest
from mmengine.runner import save_checkpoint

from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                      render_video, write_mp4)

SOFT = 'configs/hman_demo.py'
HARD = 'configs/demo/hman-hard-att_demo.py'
NUM_FRAMES = 20
FPS = 10


@pytest.fixture(scope='session')
def video(tmp_path_factory):
    """A 32x32, 20-frame, 10 fps 'up-left' action."""
    spec = SyntheticActionSpec(
        size=32,
        num_frames=NUM_FRAMES,
        fps=FPS,
        object_size=5,
        num_distractors=1)
    frames = render_video(np.random.default_rng(3), ['up', 'left'], spec)
    path = tmp_path_factory.mktemp('video') / 'up_left.mp4'
    write_mp4(str(path), frames, spec.fps)
    return str(path)


def initialised_checkpoint(config, path):
    """Build the recognizer, run its init_weights and save it as an
    mmengine checkpoint."""
    from mmaction.apis import init_recognizer
    model = init_recognizer(config, None, device='cpu')
    model.init_weights()
    save_checkpoint(
        dict(meta=dict(epoch=0, config=config), state_dict=model.state_dict()),
        str(path))
    return str(path)


@pytest.fixture(scope='session')
def soft_checkpoint(tmp_path_factory):
    return initialised_checkpoint(SOFT,
                                  tmp_path_factory.mktemp('ckpt') / 'soft.pth')


@pytest.fixture(scope='session')
def hard_checkpoint(tmp_path_factory):
    return initialised_checkpoint(HARD,
                                  tmp_path_factory.mktemp('ckpt') / 'hard.pth')
