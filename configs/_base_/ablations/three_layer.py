# Three recurrent layers: two boundary detectors, two slower time scales
# (head delta: model = dict(cls_head=_base_.three_layer)).
three_layer = dict(rnn=dict(num_layers=3))
