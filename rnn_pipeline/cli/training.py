"""Commands that train: ``fit``, ``embed``, ``diagnose``, and ``list`` of what they take."""

import signal

import click

from rnn_pipeline import api
from rnn_pipeline.cli.options import PipelineUsageError, user_errors
from rnn_pipeline.errors import TrainingInterrupted, TrainingStopped
from rnn_pipeline.limits import MAX_EPOCHS
from rnn_pipeline.paths import check_output_file
from rnn_pipeline.startup import import_tensorflow_quietly


@click.command()
@click.argument("pipeline", required=False)
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a config value, e.g. --set model.cell=gru (repeatable); 'none' "
                   "unsets an optional number: --set train.global_clipnorm=none.")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS),
              help="Shortcut for --set train.epochs=N.")
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Run folder to create (default: runs/<name>-<timestamp>).")
@click.option("--resume", type=click.Path(file_okay=False),
              help="Continue run folder RUN from its last checkpoint (its own config; --epochs "
                   "extends a finished run; --set takes train.* keys only).", metavar="RUN")
@click.option("--local-workers", type=click.IntRange(min=1),
              help="Train as N local worker processes of one multi_worker cluster "
                   "(development and tests; real clusters set TF_CONFIG).")
@click.option("--print-config", is_flag=True,
              help="Print the resolved pipeline as TOML and exit without training.")
def fit(pipeline, overrides, epochs, run_dir, resume, local_workers, print_config):
    """Train the pipeline PIPELINE (a .toml file or a bundled name; default: 'default')."""
    if epochs is not None:
        overrides = (*overrides, f"train.epochs={epochs}")
    with user_errors():
        if resume is not None:
            path, config = None, api.resume_config(resume, overrides, pipeline or run_dir
                                                   or print_config)
        else:
            path, config = api.pipeline_config(pipeline, overrides)
        if print_config:
            click.echo(api.config_lib.dumps(config), nl=False)
            return
        if local_workers is not None:
            raise SystemExit(api.launch_local_workers(local_workers, config, path, overrides,
                                                      run_dir, resume, log=click.echo))
        workflow, final, run_path = train(config, resume, run_dir, overrides)
    if final is None:  # a worker other than the chief
        return
    for line in workflow.summary(final):
        click.echo(line)
    click.echo(f"Pipeline {path or run_path / 'config.toml'} -> run folder {run_path}")


def train(config, resume, run_dir, overrides):
    """Fits or resumes; a divergence or an unwritable run folder is exit code 1,
    SIGINT/SIGTERM 130/143."""
    try:
        if resume is not None:
            return api.resume_run(resume, overrides, log=click.echo)
        return api.fit_pipeline(config, run_dir, log=click.echo)
    except TrainingStopped as exc:  # not a usage mistake: exit code 1
        raise click.ClickException(str(exc)) from None
    except TrainingInterrupted as exc:
        where, name = exc.position, signal.Signals(exc.signal_number).name
        click.echo(f"Stopped by {name} in epoch {where.epoch + 1} after step {where.step}; "
                   f"checkpoint written. Continue with: rnn-pipeline fit --resume {exc.run}",
                   err=True)
        raise SystemExit(128 + exc.signal_number) from None


@click.command("list")
def list_choices():
    """List the bundled pipelines, the datasets and every named choice (cells, samplers, ...).

    Descriptions are whole: wrapped at the terminal's width (COLUMNS), one line each when
    the output is not a terminal."""
    with user_errors():
        sections = api.catalogue()
    for title, rows in sections:
        click.echo(f"{title}:")
        for line in table_lines(rows, listing_width()):
            click.echo(line)


def listing_width():
    """The width ``list`` wraps at: COLUMNS, else the terminal's; None (no wrapping) when
    the output is not a terminal and COLUMNS is unset."""
    import os
    import shutil
    import sys

    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def table_lines(rows, width=None):
    """Two columns, names then descriptions; a description longer than the line is wrapped
    under its column (never cut), at ``width`` terminal columns (None: not wrapped)."""
    names = max(len(name) for name, _ in rows)
    room = None if width is None else max(width - names - 4, 20)
    lines = []
    for name, description in rows:
        for i, part in enumerate(wrap(description, room) if room else [description]):
            lines.append(f"  {name if i == 0 else '':<{names}}  {part}".rstrip())
    return lines


def display_width(text):
    """Terminal columns of ``text``: wide (CJK) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text, room):
    """``text`` in lines of at most ``room`` columns, broken at spaces; a word wider than a
    line (Japanese has no spaces) is broken where it reaches the edge. Nothing is lost."""
    lines, line = [], ""
    for word in text.split():
        joined = f"{line} {word}" if line else word
        if display_width(joined) <= room:
            line = joined
            continue
        if line:
            lines.append(line)
        while display_width(word) > room:
            cut = max(n for n in range(1, len(word) + 1) if display_width(word[:n]) <= room
                      or n == 1)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return lines + [line] if line else lines


@click.command()
@click.argument("pipeline", required=False)
@click.option("--out", type=click.Path(dir_okay=False),
              help="Vectors file to write, word2vec text (default: <name>-word2vec.txt).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a config value, e.g. --set word2vec.method=cbow (repeatable).")
def embed(pipeline, out, overrides):
    """Train Word2Vec on the training split of PIPELINE, with its tokenizer and vocabulary.

    The vectors have model.embedding_dim dimensions and feed back in as embeddings.file."""
    from pathlib import Path

    with user_errors():
        _, config = api.pipeline_config(pipeline, overrides)
        out = Path(out or f"{config.name}-word2vec.txt")
        if out.exists():
            raise PipelineUsageError(f"--out must not exist yet (delete it or choose another "
                                     f"name). Received: --out={out}")
        check_output_file(out, "--out")
        import_tensorflow_quietly()
        from rnn_pipeline.workflows.word_vectors import embed_pipeline

        count = embed_pipeline(config, out, log=click.echo)
    click.echo(f"{count:,} word vectors -> {out} (use it: --set embeddings.file={out})")


@click.command()
@click.argument("target", metavar="RUN|PIPELINE", required=False)
@click.option("--cells", help="Comma-separated cells to compare [default: simple_rnn,lstm,gru "
                              "for a PIPELINE, the run's own cell for a RUN].")
@click.option("--steps", type=click.IntRange(min=2), default=50, show_default=True,
              help="T: window length; the loss is the last step's.")
@click.option("--batch", type=click.IntRange(min=1), default=16, show_default=True,
              help="Windows of the training text averaged over.")
@click.option("--train-steps", type=click.IntRange(min=1), default=200, show_default=True,
              help="Training steps of each cell that has no trained weights yet.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Folder for the CSV and PNGs [default: RUN/diagnostics or "
                   "diagnostics/<name>].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a pipeline value (PIPELINE only), e.g. --set model.units=64 "
                   "--set model.embedding_dim=64 (a tied embedding has the units' size).")
def diagnose(target, cells, steps, batch, train_steps, out, overrides):
    """Vanishing and exploding gradients: ||dL_T/ds_t|| through time for each cell, fresh and
    trained, on the pipeline's text; for a RUN also its clipping statistics and how large
    its carried state grows on the validation split."""
    with user_errors():
        config, run, out = api.diagnosis_config(target, overrides, out)
        default_cells = config.model.cell if run else "simple_rnn,lstm,gru"
        names = [c.strip() for c in (cells or default_cells).split(",") if c.strip()]
        import_tensorflow_quietly()
        from rnn_pipeline.workflows.diagnose import check_cells, diagnose as run_diagnosis

        files = run_diagnosis(config, out, check_cells(names), steps=steps, batch=batch,
                              train_steps=train_steps, run=run, log=click.echo)
    for path in files:
        click.echo(f"wrote {path}")
