"""``rnn-pipeline``: thin click commands over the library, one module per kind of command."""

import click

from rnn_pipeline.cli import forecasting, runs, serve, speech, tagging, training
from rnn_pipeline.cli.options import OneLineGroup
from rnn_pipeline.startup import filter_native_logs


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rnn-pipeline")
def cli():
    """Recurrent neural networks from raw text to a trained, evaluated model."""
    filter_native_logs()  # TensorFlow's C++ log lines, also those logged while ops run


for command in (training.fit, training.list_choices, runs.evaluate, runs.generate,
                runs.translate, tagging.tag, speech.transcribe, runs.export, runs.forecast,
                forecasting.backtest,
                training.embed, runs.neighbors, training.diagnose, serve.serve):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
