"""``rnn-pipeline serve``: the development server over an export base."""

import click

from rnn_pipeline.cli.options import PipelineUsageError
from rnn_pipeline.startup import import_tensorflow_quietly


@click.command()
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
