# mmaction2's sgd_50e schedule (lr steps at 20 and 40) with the tighter
# gradient clipping a recurrent head wants.
_base_ = ['mmaction::_base_/schedules/sgd_50e.py']

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))

# lr above is for 8 GPUs x 16 videos; --auto-scale-lr rescales it.
auto_scale_lr = dict(enable=False, base_batch_size=128)
