"""Test-only hook: records the loss of the *global* batch (mean over
ranks) at every iteration into ``<work_dir>/global_loss.json``."""
import json
import os.path as osp

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_reduce, get_rank
from mmengine.hooks import Hook


@HOOKS.register_module()
class GlobalLossRecorder(Hook):

    def before_train(self, runner):
        self.losses = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        loss = outputs['loss'].detach().clone().to(torch.float64)
        all_reduce(loss, op='mean')
        self.losses.append(loss.item())

    def after_train(self, runner):
        if get_rank() == 0:
            with open(osp.join(runner.work_dir, 'global_loss.json'), 'w') as f:
                json.dump(self.losses, f)
