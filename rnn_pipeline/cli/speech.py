"""``rnn-pipeline transcribe``: recognise WAV files with a speech run."""

import click

from rnn_pipeline.cli.options import run_workflow, user_errors


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
def transcribe(run, files):
    """Recognise each WAV file FILES with the trained model of run folder RUN (a speech
    run): one line per file, its transcript, or its label and probability."""
    from rnn_pipeline.tasks.speech.config import SpeechConfig

    with user_errors():
        workflow = run_workflow(run, SpeechConfig, "a speech run")
        results = workflow.transcribe(list(files))
    for path, (text, probability) in zip(files, results):
        shown = text if probability is None else f"{text} ({probability:.3f})"
        click.echo(f"{path}\t{shown}")
