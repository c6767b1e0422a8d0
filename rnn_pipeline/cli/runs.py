"""Commands over a finished run folder: evaluate, generate, translate, export, forecast
and neighbors."""

import click

from rnn_pipeline import api
from rnn_pipeline.choices import SAMPLERS
from rnn_pipeline.cli.options import FiniteFloatRange, not_blank, run_workflow, user_errors
from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.tasks.translation.config import TranslationConfig
from rnn_pipeline.limits import (MAX_BEAMS, MAX_GENERATED_TOKENS, MAX_SEED, MAX_TOP_K,
                                 MAX_VERSION)
from rnn_pipeline.startup import import_tensorflow_quietly


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--split", type=click.Choice(["train", "valid", "test"]), default="test",
              show_default=True, help="Which split to evaluate, with the figures the run's task "
                                      "measures.")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Language models: parallel streams the split is cut into [default: the "
                   "training batch]; 1 reads it as one stream, the published protocol.")
def evaluate(run, split, batch_size):
    """Evaluate the trained model of run folder RUN on a split; the figures are saved in
    RUN/evaluation/ (SPLIT.json and the task's plots)."""
    with user_errors():
        if batch_size is not None:
            lines, saved, unsaved = api.evaluate_run(
                run, split, LanguageModelConfig, "a language-model run with --batch-size",
                log=click.echo, batch_size=batch_size)
        else:
            lines, saved, unsaved = api.evaluate_run(run, split, log=click.echo)
    for line in lines:
        click.echo(line)
    for path in saved:
        click.echo(f"Saved {path}")
    if unsaved:
        click.echo(f"Note: nothing was saved: {unsaved}", err=True)


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--prompt", "prompts", multiple=True, default=[""], show_default=False,
              help="Text to continue (repeatable: prompts run as one batch). Default: empty, "
                   "which starts from <eos>.")
@click.option("--max-tokens", type=click.IntRange(1, MAX_GENERATED_TOKENS), default=30,
              show_default=True,
              help="Tokens to generate after each prompt.")
@click.option("--sampler", type=click.Choice(SAMPLERS.names()),
              default="top_k", show_default=True,
              help="How the next token is chosen: greedy (most probable), random (from the "
                   "softmax), top_k / top_p (from the k most probable / the nucleus of mass "
                   "p), beam (the most probable continuation of --num-beams hypotheses).")
@click.option("--temperature", type=FiniteFloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="random/top_k/top_p: softmax temperature; below 1 "
                                      "sharpens, a tiny one is greedy.")
@click.option("--top-k", type=click.IntRange(1, MAX_TOP_K), default=10, show_default=True,
              help="top_k: sample among this many most probable tokens.")
@click.option("--top-p", type=FiniteFloatRange(0, 1, min_open=True), default=0.9,
              show_default=True, help="top_p: sample among the fewest tokens whose "
                                      "probabilities sum to P.")
@click.option("--num-beams", type=click.IntRange(1, MAX_BEAMS), default=4, show_default=True,
              help="beam: hypotheses kept per prompt (1 is greedy).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
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


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--text", "texts", multiple=True, required=True, callback=not_blank,
              help="Sentence to translate (repeatable: sentences run as one batch).")
@click.option("--num-beams", type=click.IntRange(1, MAX_BEAMS),
              help="Beam width (default: the run's decode.num_beams; 1 is greedy).")
def translate(run, texts, num_beams):
    """Translate sentences with the trained model of run folder RUN (a translation run)."""
    with user_errors():
        workflow = run_workflow(run, TranslationConfig, "a translation run")
        translations = workflow.translate(list(texts), num_beams=num_beams)
    for translation in translations:
        click.echo(translation)


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--name", help="Model name in TF Serving (default: the pipeline's name).")
@click.option("--version", type=click.IntRange(1, MAX_VERSION),
              help="Version number (default: the next free one).")
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base: <base>/<name>/<version>/.")
@click.option("--top-words", type=click.IntRange(min=1),
              help="Language models: words returned by the next_words signature [default: 10].")
@click.option("--max-tokens-limit", type=click.IntRange(1, MAX_GENERATED_TOKENS),
              help="Language models: largest max_tokens a generation request may ask for "
                   "[default: 1000].")
@click.option("--max-tokens", type=click.IntRange(0, MAX_GENERATED_TOKENS),
              help="Language models: tokens serving_default generates (the generate "
                   "signature's default) [default: 30, at most --max-tokens-limit].")
@click.option("--temperature", type=FiniteFloatRange(min=0),
              help="Language models: serving_default's temperature (0 is greedy) "
                   "[default: 1.0].")
@click.option("--top-k", type=click.IntRange(0, MAX_TOP_K),
              help="Language models: serving_default samples among this many most probable "
                   "tokens (0: all) [default: 10].")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1),
              help="Language models: serving_default's sampling seed [default: 0].")
def export(run, name, version, base, top_words, max_tokens_limit, **defaults):
    """Export the trained model of run folder RUN as a SavedModel for TensorFlow Serving."""
    with user_errors():
        path, models_config = api.export_run(run, base, name, version, log=click.echo,
                                             top_words=top_words,
                                             max_tokens_limit=max_tokens_limit, **defaults)
    click.echo(f"Exported {run} -> {path}")
    click.echo(f"Model list for TF Serving: {models_config}")


@click.command()
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


@click.command()
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
