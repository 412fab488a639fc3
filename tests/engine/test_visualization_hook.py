"""FrameVisualizationHook hands NCHW clips to mmaction2's hook as NCTHW."""
import torch

from hman_mmaction.engine.visualization_hook import \
    frames_first_to_channels_first


def test_frames_first_clips_become_channels_first():
    video = torch.arange(16 * 3 * 4 * 5).view(16, 3, 4, 5)
    out = frames_first_to_channels_first(video)
    assert out.shape == (3, 16, 4, 5)
    assert torch.equal(out[:, 7], video[7])


def test_channels_first_clips_are_left_alone():
    video = torch.zeros(3, 8, 4, 5)  # NCTHW input of a 3D recognizer
    assert frames_first_to_channels_first(video) is video
