# Ablation of the demo config: no boundaries, i.e. the Att-LSTM baseline
# (configs/demo/attlstm_demo.py).
_base_ = ['../attlstm_demo.py']
