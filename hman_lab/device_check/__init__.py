"""The GPU check (``tools/device_check.py``): the parts and the report
(:mod:`.check`), the fast path against the reference loop (:mod:`.parity`),
the head's ``cuda_graphs`` option (:mod:`.graphs`), a short training run of
a real config (:mod:`.short_train`) and the targets' verdicts
(:mod:`.acceptance`).

:mod:`.check` imports the standard library only until a part runs: the
check installs the stack's wheels first (``--install-wheels``)."""
