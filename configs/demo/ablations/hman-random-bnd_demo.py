# Diagnostic baseline: layer 1's boundaries fire at random steps, as many
# per clip as the clip has ground-truth sub-action changes (RandomBoundary,
# rate-matched to the truth). Compare with the oracle (right place, same
# count) and with learned boundaries (docs/boundaries.md).
_base_ = ['./hman-oracle-bnd_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(boundary=dict(_delete_=True, type='RandomBoundary'))))
