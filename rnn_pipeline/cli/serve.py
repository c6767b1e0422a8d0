"""``rnn-pipeline serve``: the development server over an export base."""

import errno

import click

from rnn_pipeline.cli.options import FiniteFloatRange, PipelineUsageError
from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.limits import ServeLimits
from rnn_pipeline.startup import import_tensorflow_quietly

_DEFAULT = ServeLimits()


def _bind_error(exc, host, port, option="--port"):
    """The one-line error for a server that could not start: a host that does not resolve
    or is not this machine's names ``--host``; a port in use or not allowed names ``option``
    (``--port``, or ``--grpc-port``)."""
    import socket

    reason = getattr(exc, "strerror", None) or str(exc)
    if isinstance(exc, (socket.gaierror, UnicodeError)):
        return error_message("--host", f"must be a name or address of this machine "
                                       f"({reason})", host)
    if exc.errno == errno.EADDRNOTAVAIL:
        return error_message("--host", f"must be an address of this machine ({reason})", host)
    if exc.errno == errno.EADDRINUSE:
        return error_message(option, f"is in use on {host}: pick another, or 0 for a free "
                                     f"one ({reason})", port)
    return error_message(option, f"cannot be used on {host} ({reason})", port)


def _batching_parameters(context, parameter, path):
    """The file's `BatchingParameters` (None without one); an invalid file is one line."""
    from rnn_pipeline.serving.batching_parameters import (BatchingParametersError,
                                                          read_batching_parameters)

    try:
        return read_batching_parameters(path) if path else None
    except BatchingParametersError as exc:
        raise click.BadParameter(str(exc), context, parameter) from None


def _grpc_server(server, host, port, limits):
    """A started gRPC server (and its port) over the REST ``server``'s models; a port it
    cannot use is a one-line ``--grpc-port`` error, and the REST server is closed."""
    from rnn_pipeline.serving.grpc_server import make_grpc_server

    try:
        grpc_server, bound = make_grpc_server(server.repository, host, port, limits)
    except (OSError, UnicodeError) as exc:
        server.server_close()
        raise PipelineUsageError(_bind_error(exc, host, port, "--grpc-port")) from None
    grpc_server.start()
    return grpc_server, bound


def _close(server, grpc_server):
    """Closes the REST server and the (gRPC server, port), if any."""
    if grpc_server:
        grpc_server[0].stop(None)
    server.server_close()


@click.command()
@click.option("--base", type=click.Path(file_okay=False), default="saved_models",
              show_default=True, help="Export base with <name>/<version>/ folders.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8501, show_default=True)
@click.option("--grpc-port", type=click.IntRange(0, 65535), default=None,
              help="Also serve TF Serving's gRPC API (PredictionService, ModelService) on "
                   "this port, over the same models (0: a free port; default: REST only).")
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
@click.option("--batching-parameters", type=click.Path(exists=True, dir_okay=False),
              callback=_batching_parameters,
              help="TF Serving's --batching_parameters_file (BatchingParameters text "
                   "proto): concurrent requests to a signature run as one batch.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def serve(base, host, port, grpc_port, verbose, batching_parameters, **limits):
    """Serve exports over TF Serving's REST API (and gRPC API, with --grpc-port), for
    development (production: TF Serving)."""
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
        server = make_server(base, host, port, quiet=not verbose, limits=ServeLimits(**limits),
                             batching=batching_parameters, load=False)
    except (OSError, UnicodeError) as exc:
        raise PipelineUsageError(_bind_error(exc, host, port)) from None
    grpc_server = None if grpc_port is None else _grpc_server(
        server, host, grpc_port, ServeLimits(**limits))
    try:  # after binding: a host or port that cannot be used is said at once
        server.repository.load_latest()
    except ServingError as exc:
        _close(server, grpc_server)
        raise PipelineUsageError(error_message(
            "--base", f"must hold exports that load, as TF Serving loads the latest version "
                      f"of each model when it starts, but {exc}", base)) from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {base} on http://{shown}:{server.server_address[1]}/v1/models/<name> "
               f"(development server; Ctrl-C stops)")
    if grpc_server:
        click.echo(f"Serving {base} over gRPC on {shown}:{grpc_server[1]} (TF Serving's "
                   f"PredictionService and ModelService)")
    click.echo(f"Playground: http://{shown}:{server.server_address[1]}/ (a page that calls "
               f"these models in a browser)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        _close(server, grpc_server)
