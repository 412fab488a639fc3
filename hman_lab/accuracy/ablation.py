"""Run a set of configs for several seeds and write one ablation table
(``tools/ablate.py``: :func:`run_ablation`).

Each (config, seed) is trained with :func:`hman_mmaction.engine.launch.train`
(what ``tools/train.py`` runs, in this process), its best checkpoint
(``best_*.pth``, else the last epoch) is tested with
:func:`hman_mmaction.engine.launch.test`, and the test metrics are kept in
``<work_dir>/<config>/seed<k>/ablate_result.json`` (a rerun reuses them, so
an interrupted grid continues where it stopped; runs made with other
``cfg_options`` are redone). Progress goes to mmengine's current logger.

The table reports, per config: mean +- sample std (n-1) over the seeds of
test top-1 / top-5, layer 1's boundary rate and F1 (next to a random
detector's), the attention's pointing-game hit rate and mass on the target
and on a distractor (next to uniform attention; ``AttentionMetric``, where
the test data has the generator's boxes), the head's parameter count, and
the head's forward
time per clip (eval mode, no grad, on the features of one test batch),
measured for all configs in one interleaved pass so that they share the
machine's load.

``--cached-grid`` (:func:`run_ablation`) first extracts (or resumes, or
reuses) the feature store of the trained demo backbone and runs every
config of configs/cached/ (:data:`GRID`).
"""
import copy
import functools
import glob
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from hman_mmaction.datasets.synthetic_actions import boxes_path, segments_path
from hman_mmaction.engine.launch import check_output_file, test, train
from hman_mmaction.features import FeatureStore, extract_features
from ..runs import REPO, best_checkpoint, run_grid
from ..speed.timing import time_round_robin
from ..tables import NA, format_mean_std, markdown_table
from .scores import ATTENTION_HEADERS, attention_cells, attention_summary

RESULT = 'ablate_result.json'
DEMO_CONFIG = 'configs/hman_demo.py'
DEMO_STORE = 'work_dirs/feature_cache/hman_demo'
# configs/cached/demo/hman-hard-att_demo.py is the same model as
# ablations/hman-hard-att_demo.py, so the grid runs it once.
GRID = [
    'configs/cached/hman_demo.py', 'configs/cached/demo/attlstm_demo.py',
    'configs/cached/demo/tsn_demo.py'
] + sorted(
    osp.relpath(c, REPO)
    for c in glob.glob(osp.join(REPO, 'configs/cached/demo/ablations/*.py')))


def config_key(config: str) -> str:
    """``configs/cached/demo/tsn_demo.py`` -> ``cached/demo/tsn_demo``."""
    path = osp.normpath(config)
    parts = path.split(os.sep)
    if 'configs' in parts:
        parts = parts[len(parts) - parts[::-1].index('configs'):]
    return osp.splitext('/'.join(parts))[0]


def with_store(config: str, cfg_options: Optional[dict],
               feature_store: Optional[str]) -> dict:
    """``cfg_options`` (``{'dotted.key': value}``) plus, for a
    cached-feature config, the overrides that point its three dataloaders
    at ``feature_store``."""
    options = dict(cfg_options or {})
    if feature_store is None:
        return options
    dataset = Config.fromfile(config).train_dataloader.dataset
    if dataset.get('type') == 'CachedFeatureDataset':
        options.update({
            f'{loader}.dataset.store': feature_store
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        })
    return options


def _train_and_test(run: dict, previous: Optional[dict] = None) -> dict:
    """Train ``run['config']`` with ``run['seed']`` into ``run['work_dir']``
    and test its best checkpoint (:func:`run_grid`'s ``execute``);
    ``run['cfg_options']``: ``{'dotted.key': value}`` overrides for
    both."""
    config, work_dir = run['config'], run['work_dir']
    train(
        config,
        work_dir=work_dir,
        seed=run['seed'],
        cfg_options=copy.deepcopy(run['cfg_options']))
    checkpoint = best_checkpoint(work_dir)
    options = copy.deepcopy(run['cfg_options'])
    metrics = test(
        config,
        checkpoint,
        work_dir=osp.join(work_dir, 'test'),
        boundaries=scores_boundaries(config, options),
        attention=scores_attention(config, options),
        cfg_options=options)
    return dict(
        config=config,
        seed=run['seed'],
        checkpoint=checkpoint,
        metrics=metrics)


def _test_config(config: str, cfg_options: Optional[dict]) -> Config:
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(copy.deepcopy(cfg_options))
    return cfg


def scores_attention(config: str, cfg_options: Optional[dict]) -> bool:
    """Whether the test of ``config`` can score the attention
    (``AttentionMetric``): an ``HMANHead`` and the generator's boxes for the
    test split (the list's ``<split>_boxes.json``, or a feature store
    extracted from a list that had one)."""
    cfg = _test_config(config, cfg_options)
    if cfg.model.get('cls_head', {}).get('type') != 'HMANHead':
        return False
    dataset = cfg.test_dataloader.dataset
    if dataset.get('type') == 'CachedFeatureDataset':
        store = FeatureStore(dataset.store)
        if not store.exists or 'test' not in store.manifest['splits']:
            return False
        return bool(store.boxes('test'))
    ann_file = dataset.get('ann_file')
    return bool(ann_file) and osp.isfile(boxes_path(ann_file))


def scores_boundaries(config: str, cfg_options: Optional[dict]) -> bool:
    """Whether the test of ``config`` can score boundaries
    (``BoundaryMetric``): an ``HMANHead`` whose stack has a learned
    detector, and ground-truth segments for the test split (the list's
    sidecar, or a feature store extracted from a list that had one)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(copy.deepcopy(cfg_options))
    head = cfg.model.get('cls_head', {})
    boundary = head.get('rnn', {}).get('boundary', {})
    if head.get('type') != 'HMANHead' or boundary.get('type') == 'NoBoundary':
        return False
    dataset = cfg.test_dataloader.dataset
    if dataset.get('type') == 'CachedFeatureDataset':
        store = FeatureStore(dataset.store)
        if not store.exists:
            return False
        segments = store.manifest['splits'].get('test', {}).get('segments')
        return bool(segments) and any(s for s in segments)
    ann_file = dataset.get('ann_file')
    return bool(ann_file) and osp.isfile(segments_path(ann_file))


def _head_input(config: str, cfg_options: Optional[dict]):
    """The model of ``config`` (eval) and the head input of one test batch:
    ``(model, feats, kwargs, clips)``."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(copy.deepcopy(cfg_options))
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model).eval()
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    batch = next(iter(Runner.build_dataloader(loader_cfg)))
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        feats, kwargs = model.extract_feat(data['inputs'], test_mode=True)
    return model, feats, kwargs, len(data['data_samples'])


def head_costs(configs: Sequence[str],
               cfg_options: Dict[str, dict],
               repeats: int = 5,
               threads: int = 1) -> Dict[str, dict]:
    """Per config: head parameters and the median head forward time per
    clip (ms) over ``repeats`` interleaved rounds with ``threads`` torch
    threads (:func:`~hman_lab.speed.timing.time_round_robin`, the
    device synchronised around every call); ``cfg_options`` maps a config to
    its overrides."""
    setups = {c: _head_input(c, cfg_options.get(c)) for c in configs}
    calls = {
        config: functools.partial(model.cls_head, feats, **kwargs)
        for config, (model, feats, kwargs, _) in setups.items()
    }
    # every model is built on the same device (the default one)
    device = next(iter(setups.values()))[1].device.type if setups else 'cpu'
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            timings = time_round_robin(calls, device, repeats, warmup=1)
    finally:
        torch.set_num_threads(previous)
    return {
        config:
        dict(
            head_params=sum(p.numel() for p in model.cls_head.parameters()),
            head_ms_per_clip=timings[config]['median_ms'] / clips,
            head_input_shape=list(feats.shape),
            timing_threads=threads)
        for config, (model, feats, _, clips) in setups.items()
    }


def summarize(runs: Dict[str, List[dict]], costs: Dict[str, dict]) -> list:
    rows = []
    for config, results in runs.items():
        top1 = [r['metrics']['acc/top1'] for r in results]
        top5 = [r['metrics'].get('acc/top5', float('nan')) for r in results]
        boundary = {
            key: [
                r['metrics'].get(f'boundary/l1_{key}', float('nan'))
                for r in results
            ]
            for key in ('rate', 'f1', 'random_f1')
        }
        attention = [
            dict(attention=attention_summary(r['metrics'])) for r in results
        ]
        rows.append(
            dict(
                config=config,
                seeds=[r['seed'] for r in results],
                top1=top1,
                top5=top5,
                top1_mean_std=format_mean_std(top1),
                top5_mean_std=format_mean_std(top5),
                l1_rate=boundary['rate'],
                l1_f1=boundary['f1'],
                l1_random_f1=boundary['random_f1'],
                attention=[a['attention'] for a in attention],
                attention_cells=attention_cells(attention),
                **costs.get(config, {})))
    return rows


HEADERS = ('config', 'seeds', 'test top-1 (%)', 'test top-5 (%)',
           'layer-1 boundary rate', 'layer-1 boundary F1 (%)',
           'random detector F1 (%)') + ATTENTION_HEADERS + (
               'head params', 'head ms/clip (1 thread)')


def ablation_table(rows: list, title: Optional[str] = None) -> str:
    """The markdown table of :func:`summarize`'s rows (mean ± std over the
    seeds, head cost), under a ``## title`` if given."""
    cells = []
    for row in rows:
        params = row.get('head_params')
        ms = row.get('head_ms_per_clip')
        cells.append([
            config_key(row['config']),
            len(row['seeds']), row['top1_mean_std'], row['top5_mean_std'],
            format_mean_std(row.get('l1_rate', []), percent=False, digits=2),
            format_mean_std(row.get('l1_f1', [])),
            format_mean_std(row.get('l1_random_f1', [])),
            *row.get('attention_cells', [NA] * len(ATTENTION_HEADERS)),
            NA if params is None else f'{params / 1e3:.1f}k',
            NA if ms is None else f'{ms:.2f}'
        ])
    heading = f'## {title}\n\n' if title else ''
    return heading + markdown_table(HEADERS, cells) + '\n'


def ablate(configs: Sequence[str],
           seeds: int,
           out: str,
           work_dir: str = 'work_dirs/ablate',
           cfg_options: Optional[dict] = None,
           feature_store: Optional[str] = None,
           rerun: bool = False,
           timing_repeats: int = 5) -> list:
    """Run every config for seeds ``0..seeds-1``, then write ``out`` (a
    markdown table) and ``out`` with ``.json`` (all numbers).
    ``cfg_options`` (``{'dotted.key': value}``) apply to every config;
    ``feature_store`` replaces the store of the cached-feature configs."""
    missing = [c for c in configs if not osp.isfile(c)]
    if missing:
        raise FileNotFoundError(f'config(s) not found: {missing}')
    options = {c: with_store(c, cfg_options, feature_store) for c in configs}
    grid = [
        dict(
            config=config,
            seed=seed,
            cfg_options=copy.deepcopy(options[config]),
            work_dir=osp.join(work_dir, config_key(config), f'seed{seed}'))
        for config in configs for seed in range(seeds)
    ]
    start = time.time()

    def started(number, run):
        print_log(
            f'[ablate {number}/{len(grid)}] {run["config"]} seed '
            f'{run["seed"]} -> {run["work_dir"]}',
            logger='current')

    def finished(number, run, result):
        took = (' (reused)'
                if result.get('reused') else f' in {result["seconds"]:.0f}s')
        print_log(
            f'[ablate {number}/{len(grid)}] {config_key(run["config"])} '
            f'seed {run["seed"]}: top-1 '
            f'{100 * result["metrics"]["acc/top1"]:.1f}%{took}, elapsed '
            f'{(time.time() - start) / 60:.1f} min',
            logger='current')

    results = run_grid(
        grid,
        _train_and_test,
        identity=lambda run: run['cfg_options'],
        result_file=RESULT,
        identity_key='cfg_options',
        rerun=rerun,
        started=started,
        finished=finished)
    runs: Dict[str, List[dict]] = {c: [] for c in configs}
    for run, result in zip(grid, results):
        runs[run['config']].append(result)
    print_log('[ablate] timing the heads side by side', logger='current')
    costs = head_costs(configs, options, timing_repeats)
    rows = summarize(runs, costs)
    table = ablation_table(rows)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write(table)
    with open(osp.splitext(out)[0] + '.json', 'w') as f:
        json.dump(
            dict(rows=rows, runs=runs, torch_threads=torch.get_num_threads()),
            f,
            indent=1)
    print_log(f'[ablate] wrote {out}:\n{table}', logger='current')
    return rows


def demo_checkpoint(path: Optional[str] = None) -> str:
    """``path``, else the newest ``best_*.pth`` of the demo's work dir."""
    if path is not None:
        return path
    try:
        return best_checkpoint('work_dirs/hman_demo', last_epoch=False)
    except FileNotFoundError:
        raise SystemExit(
            'no trained demo backbone (work_dirs/hman_demo/best_*.pth): run '
            '`python tools/demo.py` first, or pass --checkpoint')


def run_ablation(args) -> list:
    """``tools/ablate.py``: check ``--out``, extract the demo store for
    ``--cached-grid``, then :func:`ablate` (relative paths from the
    repository root). Returns the table's rows."""
    os.chdir(REPO)
    if args.out:  # before the extraction and the runs, not after them
        check_output_file(args.out, '--out')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    configs = list(args.configs)
    store = args.feature_store
    if args.cached_grid:
        store = store or DEMO_STORE
        extract_features(
            DEMO_CONFIG,
            demo_checkpoint(args.checkpoint),
            store,
            views=args.views)
        configs += GRID
    if not configs:
        raise SystemExit('give config files or --cached-grid')
    return ablate(
        configs,
        args.seeds,
        args.out,
        work_dir=args.work_dir,
        cfg_options=args.cfg_options,
        feature_store=store,
        rerun=args.rerun,
        timing_repeats=args.timing_repeats)
