# Boundary lever: the dense predictive loss, and its error as layer 1's
# change feature: the detector sees sg(std(y_t)) - P h_{t-1}, what the layer
# failed to predict about this step's frame (docs/boundaries.md, "What the
# detector sees").
_base_ = ['./hman-predict_demo.py']

model = dict(cls_head=dict(change_features=['pred_error']))
