"""Accuracy on the order-dependent synthetic actions: the scores and tables
(:mod:`.scores`), the accuracy benchmark (:mod:`.benchmark`,
``tools/benchmark_accuracy.py``), the ablation grid (:mod:`.ablation`,
``tools/ablate.py``) and two probes (:mod:`.probes`,
``tools/attention_probe.py``, ``tools/plateau_probe.py``)."""
