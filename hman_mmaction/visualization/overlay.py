"""Attention maps placed back on the original video frames.

The model saw a crop of the frame (``crop_quadruple = (x, y, w, h)`` as
shares of the original width/height, as mmaction2's crop transforms record
it), maybe flipped, resized to its input size; its feature grid ``h x w``
tiles that crop. So cell ``(i, j)`` covers, in the original frame of size
``H x W``::

    x0 = (x + w * j / w_grid) * W,   x1 = (x + w * (j + 1) / w_grid) * W
    y0 = (y + h * i / h_grid) * H,   y1 = (y + h * (i + 1) / h_grid) * H

(after undoing the flip: ``j -> w_grid - 1 - j`` for a horizontal one).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[int, int, int, int]


def unflip(attention: np.ndarray, flip: Optional[str]) -> np.ndarray:
    """Map ``[h, w]`` from the (flipped) model input back to the frame."""
    if flip == 'horizontal':
        return attention[:, ::-1]
    if flip == 'vertical':
        return attention[::-1, :]
    return attention


def crop_box(
    frame_hw: Tuple[int, int], crop_quadruple: Sequence[float] = (0, 0, 1, 1)
) -> Box:
    """Pixel box ``(x0, y0, x1, y1)`` (exclusive ends) the model saw."""
    height, width = frame_hw
    x, y, w, h = crop_quadruple
    x0, y0 = int(round(x * width)), int(round(y * height))
    x1 = min(width, max(x0 + 1, int(round((x + w) * width))))
    y1 = min(height, max(y0 + 1, int(round((y + h) * height))))
    return x0, y0, x1, y1


def cell_box(cell: Sequence[int],
             grid_hw: Tuple[int, int],
             frame_hw: Tuple[int, int],
             crop_quadruple: Sequence[float] = (0, 0, 1, 1),
             flip: Optional[str] = None) -> Box:
    """Pixel box of feature cell ``(row, col)`` (model coordinates)."""
    row, col = cell
    rows, cols = grid_hw
    if flip == 'horizontal':
        col = cols - 1 - col
    elif flip == 'vertical':
        row = rows - 1 - row
    x0, y0, x1, y1 = crop_box(frame_hw, crop_quadruple)
    cw, ch = (x1 - x0) / cols, (y1 - y0) / rows
    return (int(round(x0 + col * cw)), int(round(y0 + row * ch)),
            int(round(x0 + (col + 1) * cw)), int(round(y0 + (row + 1) * ch)))


def attention_on_frame(attention: np.ndarray,
                       frame_hw: Tuple[int, int],
                       crop_quadruple: Sequence[float] = (0, 0, 1, 1),
                       flip: Optional[str] = None,
                       smooth: bool = True) -> np.ndarray:
    """``[H, W]`` heat in ``[0, 1]``: the map divided by its maximum,
    resized onto the crop (bilinear if ``smooth``, else one block per cell),
    0 outside the crop."""
    att = unflip(np.asarray(attention, np.float32), flip)
    peak = float(att.max())
    att = att / peak if peak > 0 else att
    x0, y0, x1, y1 = crop_box(frame_hw, crop_quadruple)
    heat = np.zeros(frame_hw, np.float32)
    interpolation = cv2.INTER_LINEAR if smooth else cv2.INTER_NEAREST
    heat[y0:y1, x0:x1] = cv2.resize(
        np.ascontiguousarray(att), (x1 - x0, y1 - y0),
        interpolation=interpolation)
    return np.clip(heat, 0.0, 1.0)


def blend_heat(frame_rgb: np.ndarray,
               heat: np.ndarray,
               alpha: float = 0.5) -> np.ndarray:
    """RGB frame with the heat drawn over it in the JET colour map,
    ``out = (1 - alpha * heat) * frame + alpha * heat * colour``."""
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8),
                               cv2.COLORMAP_JET)[..., ::-1].astype(np.float32)
    weight = (alpha * heat)[..., None]
    out = (1.0 - weight) * frame_rgb.astype(np.float32) + weight * colour
    return np.clip(out, 0, 255).astype(np.uint8)


def draw_box(frame_rgb: np.ndarray,
             box: Box,
             colour=(255, 255, 255),
             thickness: int = 1) -> np.ndarray:
    """A copy of the frame with the box outlined (the hard-attention
    cell)."""
    out = np.ascontiguousarray(frame_rgb).copy()
    x0, y0, x1, y1 = box
    cv2.rectangle(out, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colour,
                  thickness)
    return out


def attention_overlay(frame_rgb: np.ndarray,
                      attention: np.ndarray,
                      crop_quadruple=(0, 0, 1, 1),
                      flip=None,
                      mark_cell: bool = False,
                      alpha: float = 0.5,
                      thickness: int = 1) -> np.ndarray:
    """Frame + heat map of one step; with ``mark_cell`` the cell of the
    largest weight is outlined (hard attention: the chosen cell)."""
    frame_hw = frame_rgb.shape[:2]
    heat = attention_on_frame(
        attention, frame_hw, crop_quadruple, flip, smooth=not mark_cell)
    out = blend_heat(frame_rgb, heat, alpha)
    if mark_cell:
        grid = attention.shape
        flat = int(np.asarray(attention).argmax())
        cell = (flat // grid[1], flat % grid[1])
        out = draw_box(
            out,
            cell_box(cell, grid, frame_hw, crop_quadruple, flip),
            thickness=thickness)
    return out
