# Ablation of the demo config: the paper's boundary detector (z_t read off
# h_t after the cell update by a linear readout, no change signal, the rate
# loss alone; configs/_base_/ablations/paper_boundaries.py). The boundary
# levers of docs/boundaries.md ("Measured: the paper's detector and its
# levers") build on it.
_base_ = ['../../hman_demo.py', '../../_base_/ablations/paper_boundaries.py']

model = dict(cls_head=_base_.paper_boundaries)
