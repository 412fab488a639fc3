"""Peak memory of one benchmark call in a fresh process (CPU maxrss needs a
process per measurement).

    python -m hman_lab.speed.probe {head,e2e} VARIANT {train,infer} \
        SETTINGS_JSON OUT_JSON

Writes ``{"peak_mib": <float>}`` to ``OUT_JSON``
(:func:`hman_lab.speed.timing.probe_memory` reads it).
"""
import json
import sys


def main(argv=None):
    group, variant, mode, settings, out = (argv or sys.argv[1:])[:5]
    settings = json.loads(settings)
    import torch

    import hman_mmaction  # noqa: F401
    from hman_lab.speed.cases import build_cases
    from hman_lab.speed.timing import peak_memory_mib
    if settings.get('threads'):
        torch.set_num_threads(settings['threads'])
    cases = build_cases(group, settings, only=variant)
    fn = cases[mode][variant]
    if settings['device'].startswith('cuda'):
        # CUDA: exact per-call peak after warm-up. CPU: maxrss is a
        # high-water mark, so the first call is measured (a warm-up would
        # already have raised the mark to the call's peak).
        for _ in range(max(1, settings.get('warmup', 1))):
            fn()
    peak = peak_memory_mib(fn, settings['device'])
    with open(out, 'w') as f:
        json.dump(dict(peak_mib=peak), f)


if __name__ == '__main__':
    main()
