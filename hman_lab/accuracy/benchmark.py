"""The accuracy benchmark on the order-dependent synthetic actions
(``tools/benchmark_accuracy.py``): both training recipes x the models of
:data:`MODELS` x seeds, on the flat 12-class task and on its hierarchical
variant.

Every run is ``tools/train.py`` + ``tools/test.py --dump`` in a subprocess
with one torch thread (:func:`hman_lab.runs.run_process`), ``--jobs`` of
them at a time on the grid runner (:func:`hman_lab.runs.run_grid`: a
finished run with the same command is reused). Per run it reports top-1,
the order accuracy (true class vs its order-swapped twin, ~50 % for an
order-blind model), the iteration at which the training loss left the
initial plateau (first logged window with ``loss_cls < 0.9 ln C``), the
boundary rate of every learned detector in training (last logged windows)
and at test time, and the boundary precision / recall / F1 against the
ground-truth motion changes next to a random detector firing at the same
rate (:mod:`hman_mmaction.evaluation.boundary_metric`), and where the
attention looks: the pointing-game hit rate and the attention mass on the
target and on a distractor, next to uniform attention
(:mod:`hman_mmaction.evaluation.attention_metric`); the scores and tables:
:mod:`hman_lab.accuracy.scores`. The recipes and the flags:
``tools/benchmark_accuracy.py`` and docs/benchmarks.md.
"""
import functools
import hashlib
import json
import os
import os.path as osp
import time

from hman_mmaction.datasets.synthetic_actions import (
    HIERARCHICAL_NUM_SEGMENTS, SyntheticActionSpec, class_names,
    config_overrides, generate_dataset, hierarchical_spec, order_swapped_pairs,
    stale_reason)
from ..runs import REPO, python, run_grid, run_process
from .scores import (attention_summary, boundary_layers, latest_metrics,
                     load_dump, pair_accuracy, plateau_exit, results_table,
                     schedule_overrides, train_rates, training_curve,
                     zoo_table)

# name, config of the pretrained recipe (under configs/cached/), config of
# the scratch recipe (under configs/)
MODELS = {
    'hman_soft': ('HM-AN (soft attention)', 'hman_demo.py',
                  'demo/hman_scratch_demo.py'),
    'hman_hard':
    ('HM-AN (Gumbel-hard attention)', 'demo/hman-hard-att_demo.py',
     'demo/hman-hard-att_scratch_demo.py'),
    'attlstm': ('Att-LSTM (NoBoundary)', 'demo/attlstm_demo.py',
                'demo/attlstm_scratch_demo.py'),
    'tsn': ('TSN', 'demo/tsn_demo.py', 'demo/tsn_demo.py'),
    # diagnostics (pretrained recipe only): layer-1 boundaries forced at
    # the ground-truth changes (an upper bound, never a result) or at as
    # many random steps
    'hman_oracle': ('HM-AN, oracle boundaries (upper bound)',
                    'demo/ablations/hman-oracle-bnd_demo.py', None),
    'hman_random': ('HM-AN, random boundaries (rate-matched)',
                    'demo/ablations/hman-random-bnd_demo.py', None),
    # boundary levers (docs/boundaries.md), pretrained recipe only; not run
    # unless named in --models
    'hman_change': ('HM-AN + change features (map_diff)',
                    'demo/ablations/hman-change-feat_demo.py', None),
    'hman_auto_rate': ('HM-AN + data rate, calibrated test decision',
                       'demo/ablations/hman-auto-rate_demo.py', None),
    'hman_predict': ('HM-AN + predictive loss',
                     'demo/ablations/hman-predict_demo.py', None),
    'hman_pred_error': ('HM-AN + predictive loss, its error as change feature',
                        'demo/ablations/hman-pred-error_demo.py', None),
    'hman_levers': ('HM-AN + all unsupervised boundary levers',
                    'demo/ablations/hman-bnd-levers_demo.py', None),
    'hman_segsup': ('HM-AN + levers + segment supervision (SUPERVISED)',
                    'demo/ablations/hman-seg-sup_demo.py', None),
    # causal boundaries (docs/boundaries.md "Causal boundaries"),
    # pretrained recipe only; not run unless named in --models
    'hman_causal': ('HM-AN, causal boundary (pre timing, MLP readout, '
                    'change-peak targets)',
                    'demo/ablations/hman-causal-bnd_demo.py', None),
    'hman_causal_linear': ('HM-AN, causal boundary, linear readout',
                           'demo/ablations/hman-causal-linear_demo.py', None),
    'hman_causal_no_targets':
    ('HM-AN, causal boundary without change-peak targets',
     'demo/ablations/hman-causal-no-targets_demo.py', None),
    'hman_causal_oracle':
    ('HM-AN, oracle boundaries, pre timing (upper '
     'bound)', 'demo/ablations/hman-causal-oracle-bnd_demo.py', None),
    'hman_change_peak': ('HM-AN, training-free change-peak boundaries',
                         'demo/ablations/hman-change-peak-bnd_demo.py', None),
    'hman_causal_segsup': ('HM-AN, causal boundary + segment supervision '
                           '(SUPERVISED)',
                           'demo/ablations/hman-causal-seg-sup_demo.py', None),
    # the paper's detector (the default config before the causal one)
    'hman_post': ("HM-AN, the paper's boundary detector (post timing, "
                  'linear readout)', 'demo/ablations/hman-post-bnd_demo.py',
                  None),
    'hman_causal_det': ('HM-AN, causal boundary, deterministic in training',
                        'demo/ablations/hman-causal-det_demo.py', None),
    'hman_causal_det_segsup':
    ('HM-AN, causal boundary, deterministic, segment supervision '
     '(SUPERVISED)', 'demo/ablations/hman-causal-det-seg-sup_demo.py', None),
    # attention lever (docs/visualization.md)
    'hman_att_penalty': ("HM-AN + Sharma's attention penalty",
                         'demo/ablations/hman-att-penalty_demo.py', None),
    # recipe (b) lever (docs/training_recipes.md), scratch recipe only
    'hman_hard_sf':
    ('HM-AN hard, score-function estimator (learned baseline)', None,
     'demo/ablations/hman-hard-att-score-function_scratch_demo.py'),
}
CAUSAL = ('hman_causal', 'hman_causal_linear', 'hman_causal_no_targets',
          'hman_causal_oracle', 'hman_change_peak', 'hman_causal_segsup',
          'hman_causal_det', 'hman_causal_det_segsup', 'hman_post')
LEVERS = ('hman_change', 'hman_auto_rate', 'hman_predict', 'hman_pred_error',
          'hman_levers', 'hman_segsup', 'hman_att_penalty',
          'hman_hard_sf') + CAUSAL
DEFAULT_MODELS = [name for name in MODELS if name not in LEVERS]
# never model-zoo results
DIAGNOSTICS = ('hman_oracle', 'hman_random', 'hman_change', 'hman_auto_rate',
               'hman_predict', 'hman_pred_error', 'hman_levers', 'hman_segsup',
               'hman_att_penalty', 'hman_hard_sf') + CAUSAL
RECIPES = ('pretrained', 'scratch')
TASKS = ('flat', 'hierarchical')
TSN_CONFIG = 'configs/demo/tsn_demo.py'
#: defaults of the flags that choose the data and its loading (the plateau
#: probe trains on the same data as the benchmark)
DATA_DEFAULTS = dict(
    train=1200,
    test=480,
    batch_size=16,
    workers=1,
    data_seed=0,
    data_root=osp.join('data', 'benchmark_accuracy'),
    cfg_options=[])


# ----------------------------------------------------------------- tasks
def task_spec(task, overrides=()):
    """``(spec, num_segments)`` of a task: the flat 12-class task at 32 px
    (8 sampled steps) or the hierarchical preset; ``overrides`` are
    ``'field=value'`` strings."""
    fields = {}
    for item in overrides:
        key, _, value = item.partition('=')
        fields[key] = json.loads(value)
    if task == 'flat':
        spec = dict(size=32, object_size=4)
        spec.update(fields)
        return SyntheticActionSpec(**spec), 8
    return hierarchical_spec(**fields), HIERARCHICAL_NUM_SEGMENTS


def ensure_data(args, task, spec):
    root = osp.join(args.data_root, task)
    counts = dict(train=args.train, val=8, test=args.test)
    reason = stale_reason(root, spec, counts, args.data_seed)
    if reason is None:
        log(f'[{task}] data: reusing {root}')
    else:
        log(f'[{task}] data: generating {sum(counts.values())} videos into '
            f'{root} ({reason})')
        generate_dataset(
            root, counts, spec, seed=args.data_seed, progress=False)
    return root


def task_options(args, root, num_classes, segments):
    """``--cfg-options`` pointing a video config at the task's data."""
    options = config_overrides(
        root,
        batch_size=args.batch_size,
        workers=args.workers,
        num_classes=num_classes)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.append(f'{loader}.dataset.pipeline.1.num_clips={segments}')
    return options + list(args.cfg_options)


def store_options(store, num_classes, segments, batch_size):
    """``--cfg-options`` pointing a cached-feature config at ``store``."""
    options = [
        f'model.cls_head.num_classes={num_classes}',
        f'train_dataloader.batch_size={batch_size}'
    ]
    options += [
        f'{loader}.dataset.store={store}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    return options


def schedule_options(epochs):
    """The schedule of ``epochs`` (:func:`schedule_overrides`), a loss
    logged every 5 iterations (the plateau exit is read from it)."""
    return schedule_overrides(epochs, log_interval=5)


# ------------------------------------------------------------------ runs
def log(message):
    print(message, flush=True)


def run(command, log_path):
    """Run ``python <command>`` (one torch thread, this repository's
    packages first on the path, as in this process), output to
    ``log_path``; raise with the tail of the log on failure."""
    run_process(python(*command), log=log_path, threads=1).check()


def train_and_test(config, work_dir, seed, epochs, options, extras):
    """Train ``config`` for ``epochs`` and test the last checkpoint with
    ``--dump``; returns the path of the dumped predictions."""
    os.makedirs(work_dir, exist_ok=True)
    run([
        osp.join('tools', 'train.py'), config, '--work-dir', work_dir,
        '--seed',
        str(seed), '--no-validate', '--cfg-options'
    ] + options + schedule_options(epochs),
        osp.join(work_dir, 'train_stdout.log'))
    return test_checkpoint(config, work_dir, epochs, options, extras)


def test_checkpoint(config, work_dir, epochs, options, extras):
    """Test ``epoch_<epochs>.pth`` of ``work_dir`` with ``--dump`` and the
    ``extras`` flags; returns the path of the dumped predictions."""
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')
    dump = osp.join(work_dir, 'test_predictions.pkl')
    run([
        osp.join('tools', 'test.py'), config, checkpoint, '--work-dir',
        osp.join(work_dir, 'test'), '--dump', dump
    ] + extras + ['--cfg-options'] + options,
        osp.join(work_dir, 'test_stdout.log'))
    return dump


def score_run(job, dump, pairs, num_classes):
    scores, labels = load_dump(dump)
    result = pair_accuracy(scores, labels, pairs)
    rows = training_curve(job['work_dir'])
    result['plateau_exit'] = plateau_exit(rows, num_classes)
    result['train_rates'] = train_rates(rows)
    if job['model'] != 'tsn':
        metrics = latest_metrics(osp.join(job['work_dir'], 'test'))
        result['boundaries'] = dict(layers=boundary_layers(metrics))
        result['attention'] = attention_summary(metrics)
    return result


# --------------------------------------------------------------- recipes
def pretrained_backbone(args, task, options):
    """Train the TSN whose backbone the pretrained recipe reuses and
    extract its features; returns the feature store."""
    work_dir = osp.join(args.work_dir, task, 'pretrain_tsn')
    checkpoint = osp.join(work_dir, f'epoch_{args.pretrain_epochs}.pth')
    store = osp.join(work_dir, 'feature_store')
    if not osp.isfile(checkpoint):
        log(f'[{task}] pretraining TSN ({args.pretrain_epochs} epochs)')
        os.makedirs(work_dir, exist_ok=True)
        run([
            osp.join('tools', 'train.py'), TSN_CONFIG, '--work-dir', work_dir,
            '--seed',
            str(args.data_seed), '--no-validate', '--cfg-options'
        ] + options + schedule_options(args.pretrain_epochs),
            osp.join(work_dir, 'train_stdout.log'))
    drop_stale_store(store)
    log(f'[{task}] extracting the frozen TSN features into {store}')
    run([
        osp.join('tools', 'extract_features.py'), TSN_CONFIG, checkpoint,
        '--out', store, '--views', '2', '--quiet', '--cfg-options'
    ] + options, osp.join(work_dir, 'extract_stdout.log'))
    return store


def drop_stale_store(store):
    """Delete the benchmark's own feature store when an older store
    version made it (it lacks what the metrics need); it is extracted
    again from the same checkpoint."""
    import shutil

    from hman_mmaction.features.store import MANIFEST, VERSION
    manifest = osp.join(store, MANIFEST)
    if not osp.isfile(manifest):
        return
    with open(manifest) as f:
        version = json.load(f).get('version')
    if version != VERSION:
        log(f'feature store {store} is version {version}, not {VERSION}: '
            'extracting it again')
        shutil.rmtree(store)


def jobs_for(args, task, recipe, options, store, segments, num_classes):
    jobs = []
    for model in args.models:
        name, cached, scratch = MODELS[model]
        if recipe == 'scratch' and scratch is None:
            continue  # a diagnostic of the pretrained recipe
        if recipe == 'pretrained' and cached is None:
            continue  # a lever of the scratch recipe
        if recipe == 'pretrained':
            config = osp.join('configs', 'cached', cached)
            run_options = store_options(store, num_classes, segments,
                                        args.batch_size)
            epochs = args.head_epochs
        else:
            config = osp.join('configs', scratch)
            run_options = options
            epochs = args.scratch_epochs
        extra = list(args.cfg_options)
        if recipe == 'pretrained' and args.head_train_videos:
            # in the run folder's tag too: each size gets its own runs
            extra.append('train_dataloader.dataset.indices='
                         f'{args.head_train_videos}')
        if model != 'tsn':  # TSN's head takes the frame count at run time
            run_options = run_options + [
                f'model.cls_head.num_segments={segments}'
            ]
            extra += args.head_options
        for seed in args.seeds:
            jobs.append(
                dict(
                    task=task,
                    recipe=recipe,
                    model=model,
                    name=name,
                    config=config,
                    seed=seed,
                    epochs=epochs,
                    options=run_options + extra,
                    work_dir=osp.join(
                        args.work_dir, task, recipe,
                        model + variant_tag(extra + _epochs_tag(epochs)),
                        f'seed{seed}')))
    return jobs


def _epochs_tag(epochs):
    """Runs of another length than the default 4 epochs get their own
    folders (a finished run of another length is never overwritten)."""
    return [] if epochs == 4 else [f'epochs={epochs}']


def variant_tag(cfg_options):
    """'' for the configs as they are, else a short hash of the extra
    ``--cfg-options``, so that an ablation run beside the main one (same
    ``--work-dir``, reusing its data and pretrained backbone) gets its own
    run folders."""
    if not cfg_options:
        return ''
    digest = hashlib.sha1(' '.join(cfg_options).encode()).hexdigest()
    return '_' + digest[:8]


def run_command(job):
    """What identifies a run for reuse: the config's full text (its bases
    resolved, so an edited config or base is run again), the epochs and the
    overrides."""
    from mmengine.config import Config
    config = Config.fromfile(job['config']).to_dict()
    text = json.dumps(config, sort_keys=True, default=str)
    digest = hashlib.sha1(text.encode()).hexdigest()
    return [job['config'], digest, job['epochs'], job['options']]


def is_complete(job, saved):
    """Whether a saved result made the same way is the whole result: TSN's,
    a recurrent head's with attention scores and exact boundary scores,
    or one whose checkpoint is gone (nothing to test again)."""
    layers = (saved.get('boundaries') or {}).get('layers', [])
    scored = all('exact_f1' in layer for layer in layers)
    checkpoint = osp.join(job['work_dir'], f'epoch_{job["epochs"]}.pth')
    return (job['model'] == 'tsn' or bool(saved.get('attention') and scored)
            or not osp.isfile(checkpoint))


def execute(job, previous, pairs, num_classes):
    """Train, test and score one run; ``previous``: its saved result made
    before the attention scores or the exact and timing-prior boundary
    scores existed: its checkpoint is tested again, no training."""
    # HM-AN heads: BoundaryMetric and AttentionMetric next to the accuracy
    extras = [] if job['model'] == 'tsn' else ['--boundaries', '--attention']
    start = time.time()
    if previous is not None:
        dump = test_checkpoint(job['config'], job['work_dir'], job['epochs'],
                               job['options'], extras)
    else:
        dump = train_and_test(job['config'], job['work_dir'], job['seed'],
                              job['epochs'], job['options'], extras)
    result = score_run(job, dump, pairs, num_classes)
    result.update({
        k: v
        for k, v in job.items() if k != 'options'
    },
                  minutes=(time.time() - start) / 60)
    return result


def run_jobs(jobs, pairs, num_classes, parallel=1, finished=None):
    """Every job's result (:func:`run_grid`: ``parallel`` at a time); a
    finished run with the same command (``result.json`` in its folder) is
    reused, so an interrupted benchmark continues where it stopped."""
    return run_grid(
        jobs,
        functools.partial(execute, pairs=pairs, num_classes=num_classes),
        identity=run_command,
        result_file='result.json',
        identity_key='command',
        jobs=parallel,
        complete=is_complete,
        finished=finished)


def describe(result):
    text = (f'top-1 {100 * result["top1"]:.1f}%, order acc '
            f'{100 * result["order_acc"]:.1f}%, plateau exit '
            f'{result["plateau_exit"]}')
    for layer in (result.get('boundaries') or {}).get('layers', []):
        if f'bnd_rate_l{layer["layer"]}' in result['train_rates']:
            text += (f', l{layer["layer"]} rate {layer["rate"]:.2f} F1 '
                     f'{layer["f1"]:.2f} (random {layer["random_f1"]:.2f})')
    attention = result.get('attention')
    if attention:
        text += (f', attention pointing {attention["pointing"]:.2f} '
                 f'(uniform {attention["pointing_uniform"]:.2f}) on target '
                 f'{attention["mass_target"]:.2f} '
                 f'(uniform {attention["mass_target_uniform"]:.2f})')
    reused = ', reused' if result.get('reused') else ''
    return text + f' ({result["minutes"]:.1f} min{reused})'


def parsed_options(options):
    """``['k=v', ...]`` as ``--cfg-options`` parses them (mmengine's
    ``DictAction``)."""
    from mmengine.config import DictAction
    parsed = {}
    for item in options:
        key, sep, value = item.partition('=')
        if not sep:
            raise SystemExit(f'option {item!r} is not key=value')
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def check_options(args):
    """Build the head of every run the arguments ask for, with its
    ``--cfg-options`` / ``--head-options``, before any data or training:
    a misspelt key or a bad value fails here, in seconds, naming it
    (``HMANHead`` checks its options), not after the data, the TSN and
    the feature extraction."""
    from mmaction.registry import MODELS as REGISTRY
    from mmaction.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules(init_default_scope=True)
    from hman_mmaction.engine.launch import check_output_file
    for flag, path in (('--out', args.out), ('--json', args.json)):
        if path:
            check_output_file(path, flag)
    head_options = parsed_options(args.head_options)
    cfg_options = parsed_options(args.cfg_options)
    outside = [k for k in head_options if not k.startswith('model.')]
    if outside:
        raise SystemExit(f'--head-options {outside}: these keys are not '
                         'model options (model.cls_head....); give them '
                         'with --cfg-options')
    for recipe in args.recipes:
        for model in args.models:
            name, cached, scratch = MODELS[model]
            if (recipe == 'scratch'
                    and scratch is None) or (recipe == 'pretrained'
                                             and cached is None):
                continue  # a diagnostic / lever of the other recipe
            config = (
                osp.join('configs', 'cached', cached)
                if recipe == 'pretrained' else osp.join('configs', scratch))
            cfg = Config.fromfile(config)
            cfg.merge_from_dict(cfg_options)
            if model != 'tsn':
                cfg.merge_from_dict(head_options)
            try:
                REGISTRY.build(cfg.model.cls_head)
            except Exception as error:
                options = ' '.join(args.cfg_options + (
                    args.head_options if model != 'tsn' else []))
                raise SystemExit(
                    f'{name} ({config}) cannot be built with the options '
                    f'{options}: {type(error).__name__}: {error}\n'
                    'Nothing was run (checked before the data and the '
                    'training).') from error


def run_accuracy_benchmark(args):
    """``tools/benchmark_accuracy.py``: check the options, then per task
    the data, the pretrained backbone and every run, then the tables
    (printed and written to ``args.out``) and the json. Returns the runs'
    results."""
    os.chdir(REPO)
    check_options(args)
    start = time.time()
    results, settings = [], {}
    for task in args.tasks:
        spec, segments = task_spec(task, args.spec)
        names = class_names(spec)
        pairs = order_swapped_pairs(names)
        root = ensure_data(args, task, spec)
        options = task_options(args, root, len(names), segments)
        settings[task] = dict(
            classes=len(names),
            pairs=len(pairs),
            segments=segments,
            spec=vars(spec))
        jobs = []
        for recipe in args.recipes:
            if recipe == 'scratch' and task not in args.scratch_tasks:
                continue
            store = (
                pretrained_backbone(args, task, options)
                if recipe == 'pretrained' else None)
            jobs += jobs_for(args, task, recipe, options, store, segments,
                             len(names))
        log(f'[{task}] {len(jobs)} runs, {args.jobs} at a time')

        def finished(number, job, result, task=task, total=len(jobs)):
            log(f'[{task} {number}/{total}] {result["recipe"]} '
                f'{result["model"]} seed {result["seed"]}: ' +
                describe(result))

        results += run_jobs(jobs, pairs, len(names), args.jobs, finished)
    minutes = (time.time() - start) / 60
    text = results_table(results, args, settings) + '\n'
    if 'flat' in args.tasks and 'pretrained' in args.recipes:
        text += ('\nModel-zoo rows (pretrained recipe, flat task; '
                 'configs/README.md):\n\n' + zoo_table([
                     r for r in results if r['task'] == 'flat' and r['recipe']
                     == 'pretrained' and r['model'] not in DIAGNOSTICS
                 ], MODELS) + '\n')
    text += f'\nTotal: {minutes:.1f} min.\n'
    print('\n' + text)
    out = args.out or osp.join(args.work_dir, 'results.md')
    json_path = args.json or osp.join(args.work_dir, 'results.json')
    for path in (out, json_path):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(out, 'w') as f:
        f.write(text)
    with open(json_path, 'w') as f:
        json.dump(
            dict(
                args=vars(args),
                settings=settings,
                runs=results,
                total_minutes=minutes),
            f,
            indent=1,
            default=str)
    log(f'table: {out}\njson: {json_path}')
    return results
