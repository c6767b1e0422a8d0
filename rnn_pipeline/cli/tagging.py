"""``rnn-pipeline tag``: tag sentences, or a file, with a tagging run."""

from pathlib import Path

import click

from rnn_pipeline.atomic import atomic_write
from rnn_pipeline.cli.options import PipelineUsageError, not_blank, run_workflow, user_errors


def _check_files(texts, source, out):
    if bool(texts) == bool(source):
        raise PipelineUsageError("give either --text or --input (one of them). Received: "
                                 f"--text={list(texts)!r}, --input={source!r}")
    if source and not out:
        raise PipelineUsageError(f"--out must name the file to write the tagged --input to. "
                                 f"Received: --out=None")
    if out and not source:
        raise PipelineUsageError(f"--out applies to --input only. Received: --out={out!r}")
    if source and Path(out).resolve() == Path(source).resolve():
        raise PipelineUsageError(f"--out must not be the --input file (it would be "
                                 f"overwritten). Received: --out={out!r}")


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--text", "texts", multiple=True, callback=not_blank,
              help="Sentence to tag (repeatable): words split on whitespace, or characters "
                   "for a character-level run.")
@click.option("--input", "source", type=click.Path(exists=True, dir_okay=False),
              help="File to tag: CoNLL columns (token first), CoNLL-U, span JSON or plain "
                   "text (.txt, one sentence per line).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="With --input: where to write the file, in the input's format, with the "
                   "predicted tags.")
@click.option("--format", "file_format", default="auto", show_default=True,
              type=click.Choice(["auto", "conll", "conllu", "spans_json", "text"]),
              help="Format of --input; auto: .conllu, .json, .txt, else CoNLL.")
def tag(run, texts, source, out, file_format):
    """Tag sentences with the trained model of run folder RUN (a tagging run): --text prints
    one line per sentence, each token as token/TAG; --input writes a tagged file."""
    from rnn_pipeline.tasks.tagging.config import TaggingConfig
    from rnn_pipeline.tasks.tagging.tag_files import read_to_tag

    _check_files(texts, source, out)
    with user_errors():
        workflow = run_workflow(run, TaggingConfig, "a tagging run")
        if source:
            document = read_to_tag(source, file_format, workflow.tokenize)
            tags = workflow.predict(document.sentences)
            text = document.text(tags, workflow.config.tagging.column)
            atomic_write(out, lambda path: Path(path).write_text(text, encoding="utf-8"))
            tokens = sum(len(s) for s in document.sentences)
            click.echo(f"Tagged {len(document.sentences):,} sentences ({tokens:,} tokens) "
                       f"-> {out}")
            return
        tokens = [workflow.tokenize(text) for text in texts]
        tags = workflow.predict(tokens)
    for words, labels in zip(tokens, tags):
        click.echo(" ".join(f"{word}/{label}" for word, label in zip(words, labels)))
