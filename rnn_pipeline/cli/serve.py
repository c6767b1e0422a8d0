"""``rnn-pipeline serve``: the development server over an export base."""

import errno

import click

from rnn_pipeline.cli.options import FiniteFloatRange, PipelineUsageError
from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.limits import ServeLimits
from rnn_pipeline.startup import import_tensorflow_quietly

_DEFAULT = ServeLimits()


def _bind_error(exc, host, port):
    """The one-line error for a server that could not start: a host that does not resolve
    or is not this machine's names ``--host``; a port in use or not allowed names ``--port``."""
    import socket

    reason = getattr(exc, "strerror", None) or str(exc)
    if isinstance(exc, (socket.gaierror, UnicodeError)):
        return error_message("--host", f"must be a name or address of this machine "
                                       f"({reason})", host)
    if exc.errno == errno.EADDRNOTAVAIL:
        return error_message("--host", f"must be an address of this machine ({reason})", host)
    if exc.errno == errno.EADDRINUSE:
        return error_message("--port", f"is in use on {host}: pick another, or 0 for a free "
                                       f"one ({reason})", port)
    return error_message("--port", f"cannot be used on {host} ({reason})", port)


@click.command()
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base with <name>/<version>/ folders.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8501, show_default=True)
@click.option("--max-request-bytes", type=click.IntRange(1024, 2**31),
              default=_DEFAULT.max_request_bytes, show_default=True,
              help="Largest request body; a larger one is answered 413, unread.")
@click.option("--max-instances", type=click.IntRange(1, 1_000_000),
              default=_DEFAULT.max_instances, show_default=True,
              help="Rows (instances) one request may hold.")
@click.option("--max-words", type=click.IntRange(1, 100_000_000), default=_DEFAULT.max_words,
              show_default=True,
              help="Words one request may make a model read or write: rows x the longest "
                   "row's words (texts) and max_tokens.")
@click.option("--read-timeout", type=FiniteFloatRange(0.01, 3600), default=_DEFAULT.read_timeout,
              show_default=True, help="Seconds a client has to send its request.")
@click.option("--max-connections", type=click.IntRange(1, 1024),
              default=_DEFAULT.max_connections, show_default=True,
              help="Connections served at once; one more is answered 503.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def serve(base, host, port, verbose, **limits):
    """Serve exports over TF Serving's REST API, for development (production: TF Serving)."""
    from pathlib import Path

    if not Path(base).is_dir():
        raise PipelineUsageError(f"--base must be an existing folder of exports. "
                                 f"Received: --base={base}")
    from rnn_pipeline.export.layout import versions

    if not any(versions(model) for model in Path(base).iterdir()):
        raise PipelineUsageError(f"--base must hold at least one export (<name>/<version>/, "
                                 f"written by rnn-pipeline export); it has none. "
                                 f"Received: --base={base}")
    import_tensorflow_quietly()
    from rnn_pipeline.serving import make_server
    from rnn_pipeline.serving.errors import ServingError

    try:
        server = make_server(base, host, port, quiet=not verbose, limits=ServeLimits(**limits))
    except (OSError, UnicodeError) as exc:
        raise PipelineUsageError(_bind_error(exc, host, port)) from None
    except ServingError as exc:
        raise PipelineUsageError(error_message(
            "--base", f"must hold exports that load, as TF Serving loads the latest version "
                      f"of each model when it starts, but {exc}", base)) from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {base} on http://{shown}:{server.server_address[1]}/v1/models/<name> "
               f"(development server; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
