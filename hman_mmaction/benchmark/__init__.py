"""Speed and accuracy benchmarks (used by ``tools/benchmark.py`` and
``tools/benchmark_accuracy.py``)."""
