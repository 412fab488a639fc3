"""The speed benchmarks: the head and the whole recognizer
(:mod:`.benchmark`, ``tools/benchmark.py``) and head training from the
feature cache against end to end (:mod:`.cache`,
``tools/benchmark_cache.py``)."""
