"""``rnn-pipeline``: thin click commands over the library."""

import contextlib
import math

import click

from rnn_pipeline import config as config_lib
from rnn_pipeline.cli.startup import import_tensorflow_quietly
from rnn_pipeline.config.bundled import resolve_pipeline
from rnn_pipeline.errors import PipelineError, pipeline_error
from rnn_pipeline.runs import RunFolder, new_run_path


class PipelineUsageError(click.UsageError):
    """A user's mistake: shown as one ``Error: ...`` line, exit code 2."""

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", file=file, err=True)


class FiniteFloatRange(click.FloatRange):
    """`click.FloatRange` that also refuses nan and inf (they pass every range check)."""

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        if not math.isfinite(value):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return value


@contextlib.contextmanager
def user_errors():
    """Turns a `PipelineError` into a `PipelineUsageError`."""
    try:
        yield
    except PipelineError as exc:
        raise PipelineUsageError(str(exc)) from None


def workflow_class(task):
    """The workflow registered for ``task``; TensorFlow is imported (quietly) here, so that
    mistakes in options and pipeline files are reported before its slow start-up."""
    import_tensorflow_quietly()
    from rnn_pipeline.workflows import get_workflow

    return get_workflow(task)


def run_workflow(run, task=None, what=None):
    """The workflow of run folder ``run``, loaded; with ``task``, the run must be of it."""
    config = RunFolder(run).check_exists().load_config()
    if task is not None and config.task != task:
        raise PipelineUsageError(f"RUN must be {what} (task {task!r}). "
                                 f"Received: RUN={run} (task {config.task!r})")
    return workflow_class(config.task).from_run(run, log=click.echo)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rnn-pipeline")
def cli():
    """Recurrent neural networks from raw text to a trained, evaluated model."""


@cli.command()
@click.argument("pipeline", required=False)
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a config value, e.g. --set model.cell=gru (repeatable); 'none' "
                   "unsets an optional number: --set train.global_clipnorm=none.")
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Run folder to create (default: runs/<name>-<timestamp>).")
def fit(pipeline, overrides, epochs, run_dir):
    """Train the pipeline PIPELINE (a .toml file or a bundled name; default: 'default')."""
    with user_errors():
        path = resolve_pipeline(pipeline)
        config = config_lib.load(path)
        if epochs is not None:
            overrides = (*overrides, f"train.epochs={epochs}")
        config = config_lib.apply_overrides(config, overrides)
        run_path = RunFolder(run_dir or new_run_path(config.name)).check_new().path
        workflow = workflow_class(config.task)(config, log=click.echo).validate()
        workflow.prepare()  # reads data: may still fail on the user's files
        from rnn_pipeline.training.gradients import TrainingDiverged

        try:
            final = workflow.fit(run_path)
        except TrainingDiverged as exc:  # not a usage mistake: exit code 1
            raise click.ClickException(str(exc)) from None
    for line in workflow.summary(final):
        click.echo(line)
    click.echo(f"Pipeline {path} -> run folder {run_path}")


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--split", type=click.Choice(["train", "valid", "test"]), default="test",
              show_default=True, help="Which split to evaluate (perplexity, or the forecast "
                                      "metrics table against the baselines).")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Language models: parallel streams the split is cut into [default: the "
                   "training batch]; 1 reads it as one stream, the published protocol.")
def evaluate(run, split, batch_size):
    """Evaluate the trained model of run folder RUN on a split."""
    with user_errors():
        if batch_size is not None:
            workflow = run_workflow(run, "causal_lm", "a language-model run with --batch-size")
            lines = workflow.evaluation_lines(split, batch_size)
        else:
            lines = run_workflow(run).evaluation_lines(split)
    for line in lines:
        click.echo(line)


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--prompt", "prompts", multiple=True, default=[""], show_default=False,
              help="Text to continue (repeatable: prompts run as one batch). Default: empty, "
                   "which starts from <eos>.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=30, show_default=True,
              help="Tokens to generate after each prompt.")
@click.option("--sampler", type=click.Choice(["greedy", "random", "top_k", "top_p", "beam"]),
              default="top_k", show_default=True,
              help="How the next token is chosen: greedy (most probable), random (from the "
                   "softmax), top_k / top_p (from the k most probable / the nucleus of mass "
                   "p), beam (the most probable continuation of --num-beams hypotheses).")
@click.option("--temperature", type=FiniteFloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="random/top_k/top_p: softmax temperature; below 1 "
                                      "sharpens, a tiny one is greedy.")
@click.option("--top-k", type=click.IntRange(min=1), default=10, show_default=True,
              help="top_k: sample among this many most probable tokens.")
@click.option("--top-p", type=FiniteFloatRange(0, 1, min_open=True), default=0.9,
              show_default=True, help="top_p: sample among the fewest tokens whose "
                                      "probabilities sum to P.")
@click.option("--num-beams", type=click.IntRange(min=1), default=4, show_default=True,
              help="beam: hypotheses kept per prompt (1 is greedy).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same text.")
@click.option("--stop-at-eos", is_flag=True, help="End a continuation at <eos> (line end).")
def generate(run, prompts, max_tokens, sampler, temperature, top_k, top_p, num_beams, seed,
             stop_at_eos):
    """Generate text word by word from the trained model of run folder RUN."""
    import warnings

    with user_errors():
        workflow = run_workflow(run, "causal_lm", "a language-model run")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            texts = workflow.model.generate(
                list(prompts), max_tokens=max_tokens, sampler=sampler, seed=seed,
                stop_at_eos=stop_at_eos, temperature=temperature, k=top_k, p=top_p,
                num_beams=num_beams)
    for warning in caught:
        click.echo(f"Warning: {warning.message}", err=True)
    for number, text in enumerate(texts, start=1):
        if len(texts) > 1:
            click.echo(f"--- {number} ---")
        click.echo(text)


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--text", "texts", multiple=True, required=True,
              help="Sentence to translate (repeatable: sentences run as one batch).")
@click.option("--num-beams", type=click.IntRange(min=1),
              help="Beam width (default: the run's decode.num_beams; 1 is greedy).")
def translate(run, texts, num_beams):
    """Translate sentences with the trained model of run folder RUN (a translation run)."""
    with user_errors():
        workflow = run_workflow(run, "translation", "a translation run")
        translations = workflow.translate(list(texts), num_beams=num_beams)
    for translation in translations:
        click.echo(translation)


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--name", help="Model name in TF Serving (default: the pipeline's name).")
@click.option("--version", type=int, help="Version number (default: the next free one).")
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base: <base>/<name>/<version>/.")
@click.option("--top-words", type=click.IntRange(min=1), default=10, show_default=True,
              help="Words returned by the next_words signature.")
@click.option("--max-tokens-limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Largest max_tokens a generation request may ask for.")
def export(run, name, version, base, top_words, max_tokens_limit):
    """Export the trained model of run folder RUN as a SavedModel for TensorFlow Serving."""
    from pathlib import Path

    from rnn_pipeline.export.layout import check_name, resolve_version

    with user_errors():
        config = RunFolder(run).check_exists().load_config()
        name = check_name(config.name if name is None else name)
        version = resolve_version(Path(base) / name, version)  # checked before the slow part
        workflow = workflow_class(config.task).from_run(run, log=click.echo)
        from rnn_pipeline.export import export_saved_model

        path, models_config = export_saved_model(
            lambda assets: workflow.serving_module(assets, top_words=top_words,
                                                   max_tokens_limit=max_tokens_limit),
            base, name, version)
    click.echo(f"Exported {run} -> {path}")
    click.echo(f"Model list for TF Serving: {models_config}")


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="CSV with the run's time, target and covariate columns.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the forecast CSV here (default: print it).")
def forecast(run, input_path, out):
    """Forecast the horizon after the last lookback rows of --input (a forecasting run)."""
    import os
    from pathlib import Path

    with user_errors():
        if out is not None and not Path(out).absolute().parent.is_dir():
            raise pipeline_error("--out", "must be a file in an existing folder", out)
        workflow = run_workflow(run, "forecast", "a forecasting run")
        frame = workflow.forecast_file(input_path)
    if out is None:
        click.echo(frame.to_csv(index=False), nl=False)
        return
    staging = f"{out}.tmp"
    frame.to_csv(staging, index=False)
    os.replace(staging, out)
    click.echo(f"Forecast of {len(frame)} rows -> {out}")


@cli.command()
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
        path = resolve_pipeline(pipeline)
        config = config_lib.apply_overrides(config_lib.load(path), overrides)
        out = Path(out or f"{config.name}-word2vec.txt")
        if out.exists():
            raise PipelineUsageError(f"--out must not exist yet (delete it or choose another "
                                     f"name). Received: --out={out}")
        import_tensorflow_quietly()
        from rnn_pipeline.workflows.word_vectors import embed_pipeline

        count = embed_pipeline(config, out, log=click.echo)
    click.echo(f"{count:,} word vectors -> {out} (use it: --set embeddings.file={out})")


@cli.command()
@click.argument("source", metavar="RUN", type=click.Path(exists=True))
@click.argument("word")
@click.option("--k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours to show.")
def neighbors(source, word, k):
    """Nearest neighbours of WORD in RUN: a language-model run folder (its trained embedding,
    and its input vectors if it started from some) or a vectors file."""
    with user_errors():
        import_tensorflow_quietly()
        from rnn_pipeline.workflows.word_vectors import neighbor_tables

        tables = neighbor_tables(source, word, k)
    for title, rows in tables:
        click.echo(f"Nearest to {word!r} in the {title}:")
        width = max(len(w) for w, _ in rows) if rows else 0
        for neighbor, similarity in rows:
            click.echo(f"  {neighbor:<{width}}  {similarity:.3f}")


@cli.command()
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
              help="Override a pipeline value (PIPELINE only), e.g. --set model.units=64.")
def diagnose(target, cells, steps, batch, train_steps, out, overrides):
    """Vanishing and exploding gradients: ||dL_T/ds_t|| through time for each cell, fresh and
    trained, on the pipeline's text; for a RUN also its clipping statistics and how large
    its carried state grows on the validation split."""
    from pathlib import Path

    with user_errors():
        run = target if target and (Path(target) / RunFolder.CONFIG).is_file() else None
        if run is not None:
            if overrides:
                raise PipelineUsageError(f"--set applies to a PIPELINE, not a RUN. "
                                         f"Received: --set={overrides[0]}")
            config = RunFolder(run).load_config()
            out = out or Path(run) / "diagnostics"
        else:
            config = config_lib.apply_overrides(config_lib.load(resolve_pipeline(target)),
                                                overrides)
            out = out or Path("diagnostics") / config.name
        default_cells = config.model.cell if run else "simple_rnn,lstm,gru"
        names = [c.strip() for c in (cells or default_cells).split(",") if c.strip()]
        import_tensorflow_quietly()
        from rnn_pipeline.workflows.diagnose import check_cells, diagnose as run_diagnosis

        files = run_diagnosis(config, out, check_cells(names), steps=steps, batch=batch,
                              train_steps=train_steps, run=run, log=click.echo)
    for path in files:
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base with <name>/<version>/ folders.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8501, show_default=True)
@click.option("--verbose", is_flag=True, help="Log every request.")
def serve(base, host, port, verbose):
    """Serve exports over TF Serving's REST API, for development (production: TF Serving)."""
    from pathlib import Path

    if not Path(base).is_dir():
        raise PipelineUsageError(f"--base must be an existing folder of exports. "
                                 f"Received: --base={base}")
    import_tensorflow_quietly()
    from rnn_pipeline.serving import make_server

    try:
        server = make_server(base, host, port, quiet=not verbose)
    except OSError as exc:
        raise PipelineUsageError(f"--port cannot be used ({exc.strerror}). "
                                 f"Received: --port={port}") from None
    click.echo(f"Serving {base} on http://{host}:{server.server_address[1]}/v1/models/<name> "
               f"(development server; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    cli()
