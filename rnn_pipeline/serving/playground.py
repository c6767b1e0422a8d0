"""The playground: a web page at ``/`` that calls the same REST ``:predict`` API, one panel
per served task (generate, translate, forecast, tag, transcribe).

Routes (GET only): ``/`` (the page), ``/playground/<file>`` (its script and style sheet,
package data beside this module) and ``/playground/models``, the served models with their
signatures' inputs and outputs (TF Serving has no endpoint that lists models)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

STATIC = Path(__file__).with_name("playground")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8"}
_FILE = re.compile(r"/playground/(?P<file>[a-z]+\.(?:html|js|css))$")
# Only this server's own files run in the page: no inline script, nothing from elsewhere.
_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _tensor(info):
    """A TensorInfo in TF Serving's metadata JSON -> {"dtype": "float", "shape": [-1, 6, 2]}
    (shape None: unknown rank)."""
    shape = info.get("tensor_shape", {})
    return {"dtype": info.get("dtype", "DT_INVALID").removeprefix("DT_").lower(),
            "shape": None if shape.get("unknown_rank") else
            [int(dim.get("size", -1)) for dim in shape.get("dim", [])]}


def list_models(repository):
    """GET /playground/models: the latest version of every model under the base.

    Args:
        repository: the server's `ModelRepository`.

    Returns:
        [{"name", "version", "signatures": {signature: {"inputs": {name: {"dtype",
        "shape"}}, "outputs": {...}}}}], by name.
    """
    models = []
    for folder in sorted(repository.base.iterdir()):
        if not (folder.is_dir() and repository.versions(folder.name)):
            continue
        metadata = repository.metadata(folder.name)
        signatures = metadata["metadata"]["signature_def"].get("signature_def", {})
        models.append({"name": folder.name, "version": int(metadata["model_spec"]["version"]),
                       "signatures": {key: {side: {name: _tensor(info) for name, info in
                                                   signature.get(side, {}).items()}
                                            for side in ("inputs", "outputs")}
                                      for key, signature in sorted(signatures.items())}})
    return models


def static_file(path):
    """The page's file for a request path, or None.

    Args:
        path: the request path without its query, e.g. "/" or "/playground/playground.js".

    Returns:
        (content type, bytes), or None for a path that is not one of its files.
    """
    if path in ("/", "/playground", "/playground/"):
        path = "/playground/index.html"
    match = _FILE.match(path)
    file = match and STATIC / match["file"]
    if not (file and file.is_file()):
        return None
    return _TYPES[file.suffix], file.read_bytes()


def _send_file(handler, content_type, data):
    """Writes a 200 answer with ``data`` to the handler's client."""
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\nCache-Control: no-cache\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Security-Policy: {_POLICY}\r\n")
    handler.log_request(200)
    handler.wfile.write(head.encode("latin-1") + b"\r\n" + data)


def route(handler):
    """Answers a GET of the playground's paths.

    Args:
        handler: the server's request handler (its ``path``, ``repository``, ``_answer``
            and ``_send``).

    Returns:
        True when the path was the playground's (answered), False for any other path.
    """
    path = urlsplit(handler.path).path
    if path == "/playground/models":
        handler._answer(lambda: list_models(handler.repository))
        return True
    if path != "/" and not path.startswith("/playground"):
        return False
    found = static_file(path)
    if found is None:
        handler._send(404, {"error": f"The playground has no file at this path. "
                                     f"Received: path={path!r}"})
    else:
        _send_file(handler, *found)
    return True
