"""The lab: the programs that measure, compare and demonstrate the HM-AN
plugin (:mod:`hman_mmaction`), which the scripts in ``tools/`` call.

The lab imports the plugin; the plugin never imports the lab (what a
config names lives in :mod:`hman_mmaction` alone). Floors inside the lab,
each importing only those below it (docs/layout.md,
``tests/test_layout.py``):

* :mod:`hman_lab.runs` (one process, a grid of runs, a checkpoint) and
  :mod:`hman_lab.tables` (statistics over seeds, markdown tables);
* :mod:`hman_lab.speed`: the speed benchmarks (``tools/benchmark.py``,
  ``tools/benchmark_cache.py``);
* :mod:`hman_lab.accuracy`: the accuracy benchmark, the ablation grid and
  the probes (``tools/benchmark_accuracy.py``, ``tools/ablate.py``,
  ``tools/attention_probe.py``, ``tools/plateau_probe.py``);
* :mod:`hman_lab.device_check`, :mod:`hman_lab.demo`,
  :mod:`hman_lab.readme_figures`: the GPU check, ``make demo`` and the
  README figures.

Importing this package imports nothing else: the device check runs
before the OpenMMLab stack may be installed (``--install-wheels``).
"""
