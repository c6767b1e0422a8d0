"""``rnn-pipeline``: thin click commands over the library."""

import contextlib
import math
import signal

import click

from rnn_pipeline import api
from rnn_pipeline.choices import SAMPLERS
from rnn_pipeline.config import LanguageModelConfig, TranslationConfig
from rnn_pipeline.errors import PipelineError, TrainingDiverged, TrainingInterrupted
from rnn_pipeline.startup import import_tensorflow_quietly


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


def run_workflow(run, config_class=None, what=None):
    """The workflow of run folder ``run``, loaded; with ``config_class``, the run must be of
    its task."""
    return api.load_run(run, config_class, what, log=click.echo)


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
    """Fits or resumes; a divergence is exit code 1, SIGINT/SIGTERM 130/143."""
    try:
        if resume is not None:
            return api.resume_run(resume, overrides, log=click.echo)
        return api.fit_pipeline(config, run_dir, log=click.echo)
    except TrainingDiverged as exc:  # not a usage mistake: exit code 1
        raise click.ClickException(str(exc)) from None
    except TrainingInterrupted as exc:
        where, name = exc.position, signal.Signals(exc.signal_number).name
        click.echo(f"Stopped by {name} in epoch {where.epoch + 1} after step {where.step}; "
                   f"checkpoint written. Continue with: rnn-pipeline fit --resume {exc.run}",
                   err=True)
        raise SystemExit(128 + exc.signal_number) from None


@cli.command("list")
def list_choices():
    """List the bundled pipelines, the datasets and every named choice (cells, samplers, ...)."""
    with user_errors():
        sections = api.catalogue()
    for title, rows in sections:
        click.echo(f"{title}:")
        width = max(len(name) for name, _ in rows)
        for name, description in rows:
            click.echo(f"  {name:<{width}}  {description}".rstrip())


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
            workflow = run_workflow(run, LanguageModelConfig,
                                    "a language-model run with --batch-size")
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
@click.option("--sampler", type=click.Choice(SAMPLERS.names()),
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
        workflow = run_workflow(run, LanguageModelConfig, "a language-model run")
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
        workflow = run_workflow(run, TranslationConfig, "a translation run")
        translations = workflow.translate(list(texts), num_beams=num_beams)
    for translation in translations:
        click.echo(translation)


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--name", help="Model name in TF Serving (default: the pipeline's name).")
@click.option("--version", type=int, help="Version number (default: the next free one).")
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base: <base>/<name>/<version>/.")
@click.option("--top-words", type=click.IntRange(min=1),
              help="Language models: words returned by the next_words signature [default: 10].")
@click.option("--max-tokens-limit", type=click.IntRange(min=1),
              help="Language models: largest max_tokens a generation request may ask for "
                   "[default: 1000].")
def export(run, name, version, base, top_words, max_tokens_limit):
    """Export the trained model of run folder RUN as a SavedModel for TensorFlow Serving."""
    with user_errors():
        path, models_config = api.export_run(run, base, name, version, log=click.echo,
                                             top_words=top_words,
                                             max_tokens_limit=max_tokens_limit)
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
    with user_errors():
        frame = api.forecast_csv(run, input_path, out, log=click.echo)
    if out is None:
        click.echo(frame.to_csv(index=False), nl=False)
        return
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
        _, config = api.pipeline_config(pipeline, overrides)
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
