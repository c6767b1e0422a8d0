"""``rnn-pipeline tag``: tag sentences with a tagging run."""

import click

from rnn_pipeline.cli.options import not_blank, run_workflow, user_errors


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--text", "texts", multiple=True, required=True, callback=not_blank,
              help="Sentence to tag (repeatable): words split on whitespace, or characters "
                   "for a character-level run.")
def tag(run, texts):
    """Tag sentences with the trained model of run folder RUN (a tagging run): one line per
    sentence, each token as token/TAG."""
    from rnn_pipeline.tasks.tagging.config import TaggingConfig

    with user_errors():
        workflow = run_workflow(run, TaggingConfig, "a tagging run")
        tokens = [workflow.tokenize(text) for text in texts]
        tags = workflow.predict(tokens)
    for words, labels in zip(tokens, tags):
        click.echo(" ".join(f"{word}/{label}" for word, label in zip(words, labels)))
