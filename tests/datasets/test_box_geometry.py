"""box_geometry: where a video pixel lands in the model's input after
mmaction2's resizes, crops (ThreeCrop: per frame) and flips; checked
against the transforms themselves on frames with a bright rectangle."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS

from hman_mmaction.datasets.box_geometry import view_geometry

BOX = (40, 10, 60, 30)  # x0, y0, x1, y1 in a 80 x 120 (h x w) frame


def _frames(count=2, height=80, width=120):
    imgs = np.zeros((count, height, width, 3), np.uint8)
    x0, y0, x1, y1 = BOX
    imgs[:, y0:y1, x0:x1] = 255
    return [img for img in imgs]


def _run(transforms):
    imgs = _frames()
    results = dict(
        imgs=imgs,
        img_shape=imgs[0].shape[:2],
        original_shape=imgs[0].shape[:2],
        modality='RGB')
    for t in transforms:
        results = TRANSFORMS.build(t)(results)
    results['geometry'] = view_geometry(results)
    return results


def _bright_extent(img):
    ys, xs = np.nonzero(img[..., 0] > 127)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def _mapped(row):
    sx, sy, tx, ty = row[:4]
    x0, y0, x1, y1 = BOX
    xs = sorted((sx * x0 + tx, sx * x1 + tx))
    ys = sorted((sy * y0 + ty, sy * y1 + ty))
    return xs[0], ys[0], xs[1], ys[1]


@pytest.mark.parametrize('name, transforms', [
    ('none', []),
    ('resize', [dict(type='Resize', scale=(60, 40), keep_ratio=False)]),
    ('center crop', [
        dict(type='Resize', scale=(-1, 64)),
        dict(type='CenterCrop', crop_size=48)
    ]),
    ('three crop', [
        dict(type='Resize', scale=(-1, 64)),
        dict(type='ThreeCrop', crop_size=64),
        dict(type='Resize', scale=(32, 32), keep_ratio=False)
    ]),
    ('flip', [
        dict(type='CenterCrop', crop_size=64),
        dict(type='Flip', flip_ratio=1.0)
    ]),
])
def test_geometry_maps_the_box_where_the_transforms_put_it(name, transforms):
    results = _run(transforms)
    geometry = results['geometry']
    assert geometry.shape == (len(results['imgs']), 8)
    height, width = results['img_shape']
    assert (geometry[:, 4:6] == (width, height)).all()
    assert (geometry[:, 6:] == (120, 80)).all()
    for img, row in zip(results['imgs'], geometry):
        x0, y0, x1, y1 = _mapped(row)
        clipped = (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
        if clipped[2] <= clipped[0]:
            assert (img[..., 0] <= 127).all(), name  # cropped away
            continue
        # within a pixel of interpolation of where the pixels went
        np.testing.assert_allclose(
            _bright_extent(img), clipped, atol=1.01, err_msg=name)


def test_three_crop_gives_each_frame_its_own_crop():
    geometry = _run([
        dict(type='Resize', scale=(-1, 64)),
        dict(type='ThreeCrop', crop_size=64)
    ])['geometry']
    # 2 frames x 3 crops of the 96 x 64 frame, mmaction2's order: left,
    # right, middle
    assert geometry.shape == (6, 8)
    np.testing.assert_allclose(geometry[:, 2], [0, 0, -32, -32, -16, -16])


def test_recorded_by_the_transform_before_packing():
    results = TRANSFORMS.build(dict(type='RecordBoxGeometry'))(
        dict(
            imgs=np.zeros((3, 3, 8, 8)),
            img_shape=(8, 8),
            original_shape=(16, 16)))
    np.testing.assert_allclose(results['box_geometry'][0],
                               [0.5, 0.5, 0, 0, 8, 8, 16, 16])
    with pytest.raises(KeyError, match='original_shape'):
        view_geometry(dict(imgs=[0], img_shape=(8, 8)))
