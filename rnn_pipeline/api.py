"""The library functions behind the ``rnn-pipeline`` commands, one per command.

Each one checks the user's input (pipeline file, ``--set``, run folder, output paths)
before TensorFlow starts, so a mistake is reported at once and nothing is written.
"""

from pathlib import Path

from rnn_pipeline import config as config_lib
from rnn_pipeline.tasks.forecast.config import ForecastConfig
from rnn_pipeline.config.bundled import resolve_pipeline
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.paths import check_output_file, check_writable
from rnn_pipeline.progress import say
from rnn_pipeline.runs import RunFolder, new_run_path
from rnn_pipeline.runs.lock import check_not_training
from rnn_pipeline.startup import import_tensorflow_quietly


def workflow_class(task):
    """The workflow registered for ``task``; TensorFlow starts (quietly) here."""
    import_tensorflow_quietly()
    from rnn_pipeline.workflows import get_workflow

    return get_workflow(task)


def pipeline_config(pipeline=None, overrides=()):
    """The resolved config of a pipeline file or bundled name with ``--set`` overrides.

    Returns:
        (path of the pipeline file, `PipelineConfig`).
    """
    path = resolve_pipeline(pipeline)
    return path, config_lib.apply_overrides(config_lib.load(path), overrides)


def load_run(run, config_class=None, what=None, log=say):
    """The workflow of finished run folder ``run``, its model loaded.

    Args:
        run: the run folder.
        config_class: when given, the run must be of this task (its config class) ...
        what: ... described to the user like this, e.g. "a forecasting run".
        log: callable for progress lines.
    """
    config = RunFolder(run).check_exists().load_config()
    if config_class is not None and not isinstance(config, config_class):
        raise pipeline_error("RUN", f"must be {what} (task {config_class.task!r}), but its "
                             f"task is {config.task!r}", str(run))
    return workflow_class(config.task).from_run(run, log=log)


def evaluate_run(run, split, config_class=None, what=None, log=say, **options):
    """``rnn-pipeline evaluate``: the task's figures of one split of a finished run
    (`Workflow.evaluate`), saved as ``<run>/evaluation/<split>.json`` with the task's plots
    beside it; a run folder that cannot be written still gives its figures.

    Args:
        run: the run folder.
        config_class, what: as `load_run` (an option that only one task takes).
        log: callable for progress lines.
        **options: the task's evaluate options (a language model's ``batch_size``).

    Returns:
        (text lines, the paths saved, None or the one-line reason nothing was saved).
    """
    from rnn_pipeline.runs.writable import write_failure

    workflow = load_run(run, config_class, what, log)
    figures = workflow.evaluate(split, **options)
    lines = workflow.evaluation_lines(split, figures)
    try:
        saved = RunFolder(run).save_evaluation(
            split, figures, lambda folder: workflow.evaluation_plots(split, figures, folder))
    except OSError as exc:
        reason = write_failure(exc)
        if reason is None:
            raise
        return lines, [], f"{Path(run) / RunFolder.EVALUATION} cannot be written ({reason})"
    return lines, saved, None


def fit_pipeline(config, run_dir=None, log=say):
    """``rnn-pipeline fit``: validates, prepares and trains a config into a new run folder
    (on a multi-worker cluster the chief writes it).

    Returns:
        (the workflow, its final figures (None on other workers), the run folder).
    """
    run = RunFolder(run_dir or new_run_path(config.name))
    if is_chief_process(config):
        run.check_new()
    workflow = workflow_class(config.task)(config, log=log).validate()
    workflow.prepare()  # reads data: may still fail on the user's files
    return workflow, workflow.fit(run.path), run.path


# Keys a resumed run keeps: they shape the model, its data, or the optimizer's slots.
RESUME_FIXED_TRAIN_KEYS = ("batch_size", "bptt", "optimizer", "seed")


def check_resume_overrides(overrides):
    """Refuses a ``--set`` of a key that changes the model's shape or its data."""
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        section, _, leaf = key.partition(".")
        if section != "train" or leaf in RESUME_FIXED_TRAIN_KEYS:
            raise pipeline_error("--set", f"cannot change {key} when resuming: it shapes the "
                                 f"model, its data or its optimizer (only train.* keys other "
                                 f"than {', '.join(RESUME_FIXED_TRAIN_KEYS)} can change)", item)


def resume_config(run, overrides=(), other_source=None):
    """The config a resumed run trains with: its own ``config.toml`` with the allowed
    ``--set`` overrides (see `check_resume_overrides`).

    Args:
        run: the run folder.
        overrides: ``--set`` items.
        other_source: a PIPELINE, --run-dir or --print-config given too (refused).
    """
    if other_source:
        raise pipeline_error("--resume", "continues a run with its own config: it takes no "
                             "PIPELINE, --run-dir or --print-config", str(run))
    folder = RunFolder(run)
    if not folder.file(folder.CONFIG).is_file():
        raise pipeline_error("--resume", f"must be a run folder containing {folder.CONFIG}",
                             str(run))
    check_not_training(folder.path, "--resume")
    for path in (folder.path, folder.file(folder.CHECKPOINTS)):  # before the data is read
        if path.is_dir():
            check_writable(path, "--resume")
    check_resume_overrides(overrides)
    return config_lib.apply_overrides(folder.load_config(), overrides)


def resume_run(run, overrides=(), log=say):
    """``rnn-pipeline fit --resume RUN``: continues a run from its last checkpoint, with
    its own config, tokenizers and vocabularies; ``train.epochs`` may extend it.

    Returns:
        (the workflow, its final figures (None on other workers), the run folder).
    """
    config = resume_config(run, overrides)
    workflow = workflow_class(config.task)(config, log=log).validate()
    from rnn_pipeline.training.checkpoints import find_checkpoint, position_of

    folder = RunFolder(run)
    found = find_checkpoint(folder.file(folder.CHECKPOINTS), run)
    position = position_of(found[1])
    if position.step == 0 and position.epoch >= config.train.epochs:
        raise pipeline_error("--epochs", f"must be more than the {position.epoch} epochs the "
                             f"run has trained, to extend it", config.train.epochs)
    workflow.prepare(fitted_text=folder.load_fitted_text())
    log(f"Resuming {folder.path} from {found[0].name}: epoch {position.epoch + 1} of "
        f"{config.train.epochs}, after step {position.step} of it")
    return workflow, workflow.fit(folder.path, resume=found), folder.path


def is_chief_process(config):
    """Whether this process writes the run folder (all but a cluster's other workers)."""
    from rnn_pipeline.distribute.tf_config import is_chief_process

    return config.train.strategy != "multi_worker" or is_chief_process()


def launch_local_workers(count, config, pipeline_path, overrides, run_dir=None, resume=None,
                         log=say):
    """``fit --local-workers N``: the job as N local worker processes; returns the chief's
    exit code."""
    import dataclasses

    from rnn_pipeline.distribute.local_workers import run_local_workers

    cluster = dataclasses.replace(config, train=dataclasses.replace(
        config.train, strategy="multi_worker"))
    workflow_class(config.task)(cluster, log=log).check_settings(replicas=count)
    run_dir = None if resume else (run_dir or new_run_path(config.name))
    if not resume:
        RunFolder(run_dir).check_new()
    command = local_workers_command(pipeline_path, overrides, run_dir, resume)
    return run_local_workers(command, count, out=log)


def local_workers_command(pipeline_path, overrides, run_dir=None, resume=None):
    """The ``rnn-pipeline fit`` command line each local worker runs (multi_worker)."""
    import sys

    command = [sys.executable, "-m", "rnn_pipeline.cli.main", "fit"]
    command += ["--resume", str(resume)] if resume else [str(pipeline_path), "--run-dir",
                                                         str(run_dir)]
    for item in (*overrides, "train.strategy=multi_worker"):
        command += ["--set", item]
    return command


def export_run(run, base="saved_models", name=None, version=None, log=say, **options):
    """``rnn-pipeline export``: a SavedModel version of a run for TensorFlow Serving.

    Args:
        run: the run folder.
        base: export base (``<base>/<name>/<version>/``).
        name: model name; None: the pipeline's name.
        version: version number; None: the next free one.
        log: callable for progress lines.
        **options: the task's export options (`Workflow.export_options`), None = default.

    Returns:
        (the version folder, the ``models.config`` file).
    """
    from rnn_pipeline.export.layout import check_name, resolve_version

    config = RunFolder(run).check_exists().load_config()
    name = check_name(config.name, "name", "; give export a --name") if name is None \
        else check_name(name)
    check_writable(Path(base) / name, "--base")
    version = resolve_version(Path(base) / name, version)
    cls = workflow_class(config.task)
    cls.check_export_options(config.task, options)  # before the model is loaded
    workflow = cls.from_run(run, log=log)
    from rnn_pipeline.export import export_saved_model

    return export_saved_model(lambda assets: workflow.serving_module(assets, **options),
                              base, name, version)


def forecast_csv(run, input_path, out=None, log=say):
    """``rnn-pipeline forecast``: the horizon after a CSV's last ``lookback`` rows.

    Args:
        run: a forecasting run folder.
        input_path: CSV with the run's columns.
        out: CSV to write (atomically); None writes nothing.
        log: callable for progress lines.

    Returns:
        the forecast as a pandas DataFrame.
    """
    from rnn_pipeline.atomic import atomic_write

    if out is not None:
        check_output_file(out, "--out")
        if Path(out).exists() and Path(out).resolve() == Path(input_path).resolve():
            raise pipeline_error("--out", "must not be the --input file (it would be "
                                 "overwritten)", out)
    workflow = load_run(run, ForecastConfig, "a forecasting run", log)
    frame = workflow.forecast_file(input_path)
    if out is not None:
        atomic_write(out, lambda path: frame.to_csv(path, index=False))
    return frame


def diagnosis_config(target, overrides=(), out=None):
    """What ``rnn-pipeline diagnose`` reads: a run folder, or a pipeline with overrides.

    Returns:
        (config, run folder or None, output folder).
    """
    run = target if target and (Path(target) / RunFolder.CONFIG).is_file() else None
    if run is None:
        _, config = pipeline_config(target, overrides)
        return config, None, check_writable(out or Path("diagnostics") / config.name, "--out")
    if overrides:
        raise pipeline_error("--set", "applies to a PIPELINE, not a RUN", overrides[0])
    config = RunFolder(run).check_exists().load_config()
    return config, run, check_writable(out or Path(run) / "diagnostics", "--out")


def pipeline_description(path):
    """The first sentence of a pipeline file's leading comment, whole."""
    words = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("# ").strip())
    text = " ".join(words)
    for end in (". ", "。"):
        if end in text:
            text = text[:text.index(end) + len(end.strip())]
    return text


def catalogue():
    """``rnn-pipeline list``: what can be named, without starting TensorFlow.

    Returns:
        [(title, [(name, description)])]: the tasks (their declarations), the bundled
        pipelines with their task and description, the registry datasets with their kind,
        and the names of every registry (`rnn_pipeline.choices`).
    """
    from rnn_pipeline import choices
    from rnn_pipeline.config.bundled import bundled_names
    from rnn_pipeline.datasets import DATASETS

    pipelines = []
    for name in bundled_names():
        path = resolve_pipeline(name)
        pipelines.append((name, f"[{config_lib.load(path).task}] {pipeline_description(path)}"))
    sections = [("tasks (task = NAME)", [(name, choices.TASKS.get(name).summary)
                                         for name in choices.TASKS.names()]),
                ("pipelines (rnn-pipeline fit NAME)", pipelines),
                ("datasets (data.corpus, series.dataset, pairs.dataset, speech.dataset)",
                 [(name, DATASETS.get(name).kind) for name in DATASETS.names()])]
    from rnn_pipeline.config.choice_keys import choice_rows

    sections.append(("choices (pipeline keys, [the tasks that have them], and options)",
                     choice_rows()))
    return sections



def backtest(target, origins, step=1, refit=False, out=None, overrides=(), log=say):
    """``rnn-pipeline backtest``: rolling-origin evaluation of a forecasting run or
    pipeline (`tasks.forecast.backtest_run`).

    Args:
        target: a finished forecasting run folder, or a forecasting pipeline.
        origins: forecast origins per series; step: rows between them.
        refit: fit a model before each origin (else one model: the run's, or for a
            pipeline one fitted on the rows before the first origins).
        out: the new output folder [default: RUN/backtest, or backtests/NAME].
        overrides: ``--set`` items (a PIPELINE only).
        log: callable for progress lines.

    Returns:
        (the output folder, the summary rows, None or why statsforecast's models were
        skipped).
    """
    from rnn_pipeline.tasks.forecast.backtest_run import backtest_target, run_backtest

    config, run, out = backtest_target(target, overrides, out)
    fitted = load_run(run, log=log) if run and not refit else None
    return (out, *run_backtest(
        config, fitted, out, origins, step, refit,
        fit=lambda fit_config, folder: fit_pipeline(fit_config, folder, log)[0],
        blank=lambda fit_config: workflow_class(fit_config.task)(fit_config,
                                                                 log=log).validate(),
        log=log))
