"""``RunChecksHook``: a run's inputs checked before the expensive work, with
mmaction2's own ``tools/train.py`` / ``tools/test.py`` and any runner.

Add it to a config (the README's minimal config does)::

    custom_hooks = [dict(type='RunChecksHook')]

``before_run`` comes after mmengine built the loops (datasets read their
annotation lists, the evaluator its metrics) and before any checkpoint is
loaded or clip decoded. There it checks, for every loop of the run:

* **output paths**: the work dir, and the file of every metric that writes
  one (``DumpResults``, which mmaction2's ``tools/test.py --dump`` adds)
  must be writable, else an error naming the path and the fix (a bad
  ``--dump`` used to fail after the whole test);
* **labels**: every annotation line's label lies in ``[0, num_classes)``
  of the model's head (``cls_head.num_classes``), with or without
  ``num_classes`` on the dataset (mmaction2's ``VideoDataset`` included):
  an error names the annotation file, the line and the fix;
* **views**: each pipeline samples whole sequences of the head's
  ``num_segments`` frames (:mod:`~.view_check`: a test pipeline of 16
  frames on an 8-step head used to print an accuracy of half-videos).

``after_load_checkpoint`` sees a checkpoint before its weights reach the
model: testing and validation refuse one that does not fill the model
(:mod:`~.checkpoint_match`) or was trained with another config
(:mod:`~.checkpoint_config`); ``--resume`` refuses one of another model or
config, before mmengine loads its optimizer state.
"""
from typing import Iterator, Optional, Tuple

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from ..models.checkpoint_guard import ACCEPT_STEPS
from ..models.training_checks import LabelOutOfRangeError, mark_hook
from .checkpoint_config import check_checkpoint_config, config_differences
from .checkpoint_match import (CheckpointMismatchError, checkpoint_mismatch,
                               describe, refuse_incomplete)
from .exact_resume_hook import heads
from .launch import check_output_file, check_output_folder
from .view_check import check_sequence_views

#: datasets whose entries are their annotation lines, in order
ONE_ENTRY_PER_LINE = ('VideoDataset', 'RawframeDataset', 'AudioDataset')


def built_loops(runner) -> Iterator[Tuple[str, BaseLoop]]:
    """``(name, loop)`` of the loops this run has built."""
    for name in ('train', 'val', 'test'):
        loop = getattr(runner, f'_{name}_loop', None)
        if isinstance(loop, BaseLoop):
            yield name, loop


def _line(dataset, index: int, info: dict) -> str:
    ann_file = getattr(dataset, 'ann_file', None)
    line = info.get('ann_line')
    if line is None and type(dataset).__name__ in ONE_ENTRY_PER_LINE:
        line = index + 1
    if line is None:
        return f'entry {index} of {ann_file or type(dataset).__name__}'
    return f'{ann_file}, line {line}'


def check_dataset_labels(dataset, num_classes: int, name: str) -> None:
    """Raise :class:`LabelOutOfRangeError` naming the first annotation line
    whose label lies outside ``[0, num_classes)`` and how many do."""
    if not hasattr(dataset, 'get_data_info'):
        return
    bad, first = 0, None
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        labels = info.get('label')
        labels = labels if isinstance(labels, (list, tuple)) else [labels]
        wrong = [
            lab for lab in labels
            if isinstance(lab, int) and not 0 <= lab < num_classes
        ]
        if wrong:
            bad += 1
            first = first or (index, info, wrong[0])
    if first is None:
        return
    index, info, label = first
    wanted = max(label + 1, num_classes)
    raise LabelOutOfRangeError(
        f'{name}: label {label} at {_line(dataset, index, info)} '
        f'({info.get("filename", "")}) is outside [0, {num_classes}): the '
        f'model\'s head has num_classes={num_classes}; {bad} of '
        f'{len(dataset)} entries are outside. Fix those lines, or, if the '
        f'data has {wanted} classes, set model.cls_head.num_classes={wanted}'
        ' (and the datasets\' num_classes).')


def _num_classes(model) -> Optional[int]:
    """``num_classes`` of the recognizer's head (any head that has it)."""
    model = model.module if is_model_wrapper(model) else model
    value = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    return value if isinstance(value, int) else None


@HOOKS.register_module()
class RunChecksHook(Hook):
    """Checks before the run (module doc). No arguments."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        found = heads(runner.model)
        for head in found:
            mark_hook(head, type(self).__name__)
        check_output_folder(runner.work_dir, '--work-dir')
        for name, loop in built_loops(runner):
            for metric in getattr(
                    getattr(loop, 'evaluator', None), 'metrics', []):
                path = getattr(metric, 'out_file_path', None)
                if isinstance(path, str):
                    check_output_file(
                        path, f'--dump ({name}_evaluator '
                        f'{type(metric).__name__})')
            loader = getattr(loop, 'dataloader', None)
            check_sequence_views(runner.model, loader, f'{name}_dataloader')
            num_classes = _num_classes(runner.model)
            if num_classes and loader is not None:
                check_dataset_labels(loader.dataset, num_classes,
                                     f'{name}_dataloader')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        filename = str(runner._load_from or 'the latest checkpoint of '
                       f'{runner.work_dir}')
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            if runner._resume:
                self._refuse_foreign_resume(runner, checkpoint, filename)
            return  # load_from: transfer (the head names what it lacks)
        refuse_incomplete(runner.model, checkpoint, filename)
        accepted = check_checkpoint_config(checkpoint, runner.cfg, filename)
        if any(d.key == 'cls_head.num_segments' for d in accepted):
            for head in heads(runner.model):  # said in the config: intended
                head.test_cfg[ACCEPT_STEPS] = True

    @staticmethod
    def _refuse_foreign_resume(runner, checkpoint,
                               filename: Optional[str]) -> None:
        """``--resume`` continues a run: its model and optimizer states must
        be those of this config; names what differs."""
        mismatch = checkpoint_mismatch(runner.model, checkpoint)
        differences = config_differences(checkpoint, runner.cfg)
        if not mismatch and not differences:
            return
        lines = ''.join(f'\n  {d.key}: checkpoint {d.saved!r}, config '
                        f'{d.running!r}' for d in differences)
        weights = describe(mismatch, filename, runner.model) if mismatch \
            else ''
        raise CheckpointMismatchError(
            f'--resume {filename}: this checkpoint was not written by a run '
            'of this config, so its model and optimizer states cannot '
            'continue here.' +
            (f'\nConfig differences (checkpoint meta["cfg"] vs this '
             f'config):{lines}' if differences else '') +
            (f'\n{weights}' if weights else '') +
            '\nTo continue that run, resume with the config it was '
            'trained with. To start a new run from its weights (whatever '
            'matches, e.g. the backbone), use load_from instead: '
            f'--cfg-options load_from={filename} (without --resume).')
