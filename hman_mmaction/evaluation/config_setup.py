"""What ``enable_boundary_evaluation`` and ``enable_attention_evaluation``
share: the HM-AN head that must return its extras, and a metric appended
to the split's evaluators."""


def extras_head(cfg, what: str) -> dict:
    """``cfg.model.cls_head``, refused unless it is an ``HMANHead``."""
    head = cfg.model.get('cls_head')
    if head is None or head.get('type') != 'HMANHead':
        raise ValueError(f'{what} evaluation needs model.cls_head of type '
                         f'HMANHead, the config has '
                         f'{None if head is None else head.get("type")}')
    return head


def return_extras(head: dict) -> None:
    """Make the head attach its extras (attention, boundaries) to the
    predictions."""
    head['test_cfg'] = dict(head.get('test_cfg') or {}, return_extras=True)


def append_evaluator(cfg, split: str, metric: dict) -> None:
    """Add ``metric`` after the metrics of ``<split>_evaluator``."""
    evaluators = cfg[f'{split}_evaluator']
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    cfg[f'{split}_evaluator'] = list(evaluators) + [metric]
