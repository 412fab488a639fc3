# Demo ablation: Gumbel hard attention instead of soft attention.
_base_ = ['../hman-hard-att_demo.py']
