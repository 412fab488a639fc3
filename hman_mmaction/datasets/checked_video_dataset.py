"""mmaction2's ``VideoDataset`` that trusts neither its list nor its videos.

Annotations (``<path><delimiter><label>`` per line, as ``VideoDataset``) are
checked when the dataset is built, before training starts: a line is bad if
it is blank (blank lines at the end of the file are ignored), has a missing
or extra field, a label that is not an integer or not in ``[0,
num_classes)``, or names a video file that does not exist. All bad lines are
reported in one :class:`AnnotationError` (file, line numbers, why, the fix);
``skip_invalid=True`` drops them instead and logs how many and which.
A report lists at most :data:`MAX_LISTED` lines and the count; when no
listed video exists at all (a wrong ``data_prefix``), its first line says
so. A missing annotation file raises :class:`MissingAnnotationFileError`
naming the path, the working directory it is relative to, and how to make
or point to the data.

The class is registered in mmaction2's ``DATASETS`` as
``CheckedVideoDataset`` only: mmaction2's ``VideoDataset`` stays
mmaction2's own for every config that names it. It is a drop-in subclass
(the same arguments and the same samples for a valid list): our configs
name it (``dataset_type = 'CheckedVideoDataset'``).

Videos are checked when they are loaded: a clip whose pipeline fails
(random bytes, a truncated file, zero frames) raises a
:class:`BrokenVideoError` naming the video and its annotation line. With
``skip_broken_videos=True`` the clip is replaced by the next readable one
(index ``i+1, i+2, ...``) and the sample carries the metainfo key
``broken_video`` (the unreadable file):

* training: the epoch keeps its length; :class:`BrokenVideoCounterHook`
  counts and logs the skipped clips;
* validation / test: the stand-in keeps the *broken clip's* label and
  :class:`RobustAccMetric` scores it as wrong, so the clip stays in the
  denominator and the metric reports ``broken_videos``.

Ground truth: when the annotation list has a segments sidecar
(``<root>/<split>_segments.json`` beside ``<split>_list_videos.txt``, see
:mod:`.synthetic_actions`), every data info gets ``gt_segments`` (``[[start,
end, motion], ...]``) for :class:`BoundaryMetric`, and with a boxes
sidecar (``<split>_boxes.json``) ``gt_boxes`` (the target's and the
distractors' box in every frame) for :class:`AttentionMetric`.

Short videos: mmaction2's ``SampleFrames`` repeats frames of a video
shorter than ``clip_len x num_clips`` frames. ``short_videos='warn'``
(default) keeps that behaviour and logs the video once;
``short_videos='error'`` treats such a video as broken.
"""
import logging
import os
import os.path as osp
from typing import List, Optional

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from .synthetic_actions import load_boxes, load_segments

BROKEN_KEY = 'broken_video'
SHORT_VIDEO_POLICIES = ('warn', 'error')
MAX_LISTED = 10  # bad lines shown in a report (the count is always given)
MISSING_VIDEO = 'does not exist'


class AnnotationError(ValueError):
    """Bad lines in an annotation file, listed with their count."""


class MissingAnnotationFileError(FileNotFoundError):
    """The annotation file itself does not exist."""


def missing_annotation_message(ann_file: str) -> str:
    """What to say when ``ann_file`` does not exist."""
    where = ('' if osp.isabs(ann_file) else
             f' (relative to the working directory {os.getcwd()!r}: '
             f'{osp.abspath(ann_file)!r})')
    folder = osp.dirname(osp.abspath(ann_file))
    state = ('the folder exists but has no such file' if osp.isdir(folder) else
             f'its folder {folder!r} does not exist either')
    lost = spaces_note(ann_file)
    if lost:
        return f'Annotation file {ann_file!r} not found{where}.{lost}'
    return (
        f'Annotation file {ann_file!r} not found{where}; {state}. Run from '
        'the folder the config\'s paths are relative to (the repository '
        'root), make the data (demo: `python tools/data/'
        'make_synthetic_actions.py data/synthetic_actions`; UCF101 / '
        "HMDB51: mmaction2's tools/data/<dataset> scripts, see README), or "
        'point the config at your copy: `--cfg-options '
        'train_dataloader.dataset.ann_file=PATH '
        'train_dataloader.dataset.data_prefix.video=FOLDER` (and the same '
        'for val_dataloader and test_dataloader; a path with spaces goes '
        'in a config file instead: --cfg-options removes spaces).')


def path_without_spaces_source(path: str) -> Optional[str]:
    """The existing path that ``path`` is once its spaces are removed (what
    mmengine's ``DictAction`` does to a ``--cfg-options`` value), or None.
    Walks down from the deepest existing folder of ``path``."""
    path = osp.abspath(path)
    parts = path.split(os.sep)
    found = os.sep
    for index, part in enumerate(parts[1:], start=1):
        candidate = osp.join(found, part)
        if osp.exists(candidate):
            found = candidate
            continue
        if not osp.isdir(found):
            return None
        matches = [
            name for name in os.listdir(found)
            if ' ' in name and name.replace(' ', '') == part
        ]
        if not matches:
            return None
        found = osp.join(found, matches[0])
    return found if found != path else None


def spaces_note(path: str) -> str:
    """A sentence for a missing ``path`` that lost its spaces, else ''."""
    source = path_without_spaces_source(path)
    if source is None:
        return ''
    return (f' {path!r} is {source!r} without its spaces: `--cfg-options` '
            "removes every space from a value (mmengine's DictAction), so "
            'a path with spaces cannot be given there. Put it in a small '
            "config file that inherits yours (`_base_ = ['<your config>']` "
            'and the dataset keys with the path), or use a path (or a '
            'symlink) without spaces.')


class BrokenVideoError(RuntimeError):
    """A video that the pipeline cannot turn into a clip."""


def check_annotation_line(fields: List[str], num_classes: Optional[int],
                          multi_class: bool) -> Optional[str]:
    """Why ``fields`` (a split line) is bad, or None if it is good."""
    if not fields or fields == ['']:
        return 'blank line'
    if any(f == '' for f in fields):
        return 'empty field (two delimiters in a row, or a trailing one)'
    if len(fields) == 1:
        return 'missing label'
    if not multi_class and len(fields) > 2:
        return (f'{len(fields)} fields, expected 2 (path and label); '
                'for paths with spaces write the list tab-separated and set '
                "delimiter='\\t' on the dataset")
    for text in fields[1:]:
        try:
            label = int(text)
        except ValueError:
            return f'label {text!r} is not an integer'
        if label < 0 or (num_classes is not None and label >= num_classes):
            upper = '' if num_classes is None else f', {num_classes}'
            return f'label {label} is out of range [0{upper})'
    return None


@DATASETS.register_module()
class CheckedVideoDataset(VideoDataset):
    """``VideoDataset`` with checked annotations and videos (see module doc).

    Args:
        num_classes (int, optional): labels must lie in ``[0, num_classes)``.
            Strongly recommended; without it only ``label >= 0`` is checked.
        skip_invalid (bool): skip bad annotation lines (logged) instead of
            raising. Defaults to False.
        skip_broken_videos (bool): replace unreadable clips (counted and
            logged; scored as wrong at test time) instead of raising.
            Defaults to False.
        short_videos (str): ``'warn'`` or ``'error'`` for videos with fewer
            frames than the sampler needs. Defaults to ``'warn'``.
        check_files (bool): check that every listed video exists. Defaults
            to True.
        Other args as mmaction2's ``VideoDataset``.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 num_classes: Optional[int] = None,
                 skip_invalid: bool = False,
                 skip_broken_videos: bool = False,
                 short_videos: str = 'warn',
                 check_files: bool = True,
                 **kwargs) -> None:
        if short_videos not in SHORT_VIDEO_POLICIES:
            raise ValueError(f'CheckedVideoDataset short_videos must be one '
                             f'of {SHORT_VIDEO_POLICIES}, got '
                             f'{short_videos!r}')
        self.skip_invalid = skip_invalid
        self.skip_broken_videos = skip_broken_videos
        self.short_videos = short_videos
        self.check_files = check_files
        self._warned_short = set()
        super().__init__(ann_file, pipeline, num_classes=num_classes, **kwargs)

    # ----------------------------------------------------------- annotations
    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise MissingAnnotationFileError(
                missing_annotation_message(self.ann_file))
        lines = list_from_file(self.ann_file)
        while lines and not lines[-1].strip():
            lines.pop()  # blank lines at the end of the file are fine
        data_list, bad = [], []
        segments = load_segments(self.ann_file) or {}
        boxes = load_boxes(self.ann_file) or {}
        for lineno, line in enumerate(lines, start=1):
            fields = line.strip().split(self.delimiter)
            reason = check_annotation_line(fields, self.num_classes,
                                           self.multi_class)
            filename = fields[0]
            if self.data_prefix.get('video') is not None:
                filename = osp.join(self.data_prefix['video'], filename)
            if reason is None and self.check_files and not osp.isfile(
                    filename):
                reason = f'video {filename!r} {MISSING_VIDEO}'
            if reason is not None:
                bad.append((lineno, line, reason))
                continue
            labels = [int(text) for text in fields[1:]]
            data_list.append(
                dict(
                    filename=filename,
                    label=labels if self.multi_class else labels[0],
                    ann_line=lineno))
            if fields[0] in segments:
                data_list[-1]['gt_segments'] = segments[fields[0]]
            if fields[0] in boxes:
                data_list[-1]['gt_boxes'] = boxes[fields[0]]
        if bad:
            self._report_bad_lines(bad, len(lines))
        if not data_list:
            raise AnnotationError(
                f'{self.ann_file}: no usable line (of {len(lines)}); expected '
                f"'<video path>{self.delimiter}<label>' per line")
        return data_list

    def _report_bad_lines(self, bad, total) -> None:
        where = (f'{self.ann_file}: {len(bad)} invalid line(s) of {total}')
        shown = bad[:MAX_LISTED]
        listing = '\n'.join(f'  line {n}: {line!r}: {reason}'
                            for n, line, reason in shown)
        if len(bad) > len(shown):
            listing += (f'\n  ... and {len(bad) - len(shown)} more invalid '
                        'line(s)')
        missing = sum(reason.endswith(MISSING_VIDEO) for _, _, reason in bad)
        prefix = self.data_prefix.get('video')
        if missing == total:
            where = (f'None of the {total} videos listed in {self.ann_file} '
                     f'exists under data_prefix.video={prefix!r} (absolute: '
                     f'{osp.abspath(prefix or ".")!r}): is data_prefix right?'
                     f'{spaces_note(prefix or ".")}\n{where}')
        classes = ('' if self.num_classes is None else
                   f' with 0 <= label < num_classes={self.num_classes}')
        if self.skip_invalid:
            print_log(
                f'{where} skipped (skip_invalid=True):\n{listing}',
                logger='current',
                level=logging.WARNING)
            return
        raise AnnotationError(
            f'{where}:\n{listing}\nEach line must be "<video path relative '
            f"to data_prefix.video>{self.delimiter}<integer label>\"{classes}"
            ' and name an existing file. ' + self._fix(bad, total, missing))

    def _fix(self, bad, total: int, missing: int) -> str:
        """The advice that works: many labels beyond the config's classes
        -> num_classes; most lines bad -> their cause, not skip_invalid
        (which would drop them); a few bad lines -> fix or skip them."""
        largest, above = self._labels_above()
        if above > max(1, total // 10):
            wanted = largest + 1
            return (
                f'{above} of {total} lines have a label >= num_classes='
                f'{self.num_classes} (up to {largest}): the data has (at '
                f'least) {wanted} classes, the config {self.num_classes}. '
                f'Set --cfg-options model.cls_head.num_classes={wanted} and '
                f'the dataset\'s num_classes={wanted} in every dataloader '
                f'(train_dataloader.dataset.num_classes={wanted}, the same '
                'for val_dataloader and test_dataloader). skip_invalid=True '
                f'would drop those {above} lines: every sample of the other '
                'classes.')
        if missing == total or len(bad) > max(1, total // 10):
            return (f'{len(bad)} of {total} lines are bad: fix their cause '
                    '(the paths, data_prefix, the list\'s format). '
                    'skip_invalid=True would drop them all from the data.')
        return ('Fix or delete these lines, or set skip_invalid=True in the '
                'dataset config to skip them.')

    def _labels_above(self):
        """``(largest label, lines with a label >= num_classes)`` of the
        annotation file."""
        largest, above = -1, 0
        if self.num_classes is None:
            return largest, above
        for line in list_from_file(self.ann_file):
            labels = []
            for text in line.strip().split(self.delimiter)[1:]:
                try:
                    labels.append(int(text))
                except ValueError:
                    pass
            if labels:
                largest = max(largest, *labels)
                above += max(labels) >= self.num_classes
        return largest, above

    # ---------------------------------------------------------------- videos
    def _describe(self, idx: int) -> str:
        info = self.get_data_info(idx)
        line = info.get('ann_line')
        where = f' (line {line} of {self.ann_file})' if line else ''
        return f'{info["filename"]}{where}'

    def _frames_needed(self) -> int:
        for transform in self.pipeline.transforms:
            if type(transform).__name__ == 'SampleFrames':
                return transform.clip_len * transform.num_clips
        return 1

    def _load(self, idx: int) -> dict:
        """The pipeline's output for clip ``idx`` or a BrokenVideoError."""
        data_info = self.get_data_info(idx)
        try:
            data = self.pipeline(data_info)
        except Exception as error:  # decoders raise many types
            raise BrokenVideoError(
                f'Cannot read video {self._describe(idx)}: '
                f'{type(error).__name__}: {error}. Re-encode or remove the '
                'video (and its line), or set skip_broken_videos=True in the '
                'dataset config to skip unreadable clips.') from error
        if data is None:
            raise BrokenVideoError(
                f'The pipeline returned no clip for {self._describe(idx)}.')
        total = data_info.get('total_frames')
        needed = self._frames_needed()
        if total is not None and total < needed:
            self._short_video(idx, total, needed)
        return data

    def _short_video(self, idx: int, total: int, needed: int) -> None:
        message = (f'Video {self._describe(idx)} has {total} frame(s), fewer '
                   f'than the {needed} the sampler takes')
        if self.short_videos == 'error':
            raise BrokenVideoError(
                f'{message}. Remove it, or set short_videos="warn" to sample '
                'it with repeated frames (mmaction2 SampleFrames).')
        if idx not in self._warned_short:
            self._warned_short.add(idx)
            print_log(
                f'{message}: frames are repeated.',
                logger='current',
                level=logging.WARNING)

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        try:
            return self._load(idx)
        except BrokenVideoError as error:
            if not self.skip_broken_videos:
                raise
            return self._stand_in(idx, error)

    def _stand_in(self, idx: int, error: BrokenVideoError) -> dict:
        """The next readable clip, marked as standing in for clip ``idx``."""
        broken = self.get_data_info(idx)
        print_log(
            f'Skipping unreadable clip (skip_broken_videos=True): '
            f'{error}',
            logger='current',
            level=logging.WARNING)
        tries = min(len(self) - 1, self.max_refetch)
        for step in range(1, tries + 1):
            try:
                data = self._load((idx + step) % len(self))
            except BrokenVideoError:
                continue
            sample = data['data_samples']
            sample.set_metainfo({BROKEN_KEY: broken['filename']})
            if self.test_mode:  # keep the broken clip in the denominator
                sample.set_gt_label(broken['label'])
            return data
        raise BrokenVideoError(
            f'{tries + 1} clips in a row could not be loaded, starting at '
            f'{self._describe(idx)}; this is more likely a pipeline or '
            f'decoder problem than broken videos. Last error: {error}')
