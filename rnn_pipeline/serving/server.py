"""``rnn-pipeline serve``: TF Serving's REST endpoints over HTTP, for development.
Production serving is TensorFlow Serving itself, on the same export folders."""

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import tensorflow as tf

from rnn_pipeline.serving.repository import ModelRepository, NotFound
from rnn_pipeline.serving.rest import RequestError, parse_json, request_inputs, response_body

_MODEL = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
_GET = re.compile(_MODEL + r"(?P<metadata>/metadata)?/?$")
_POST = re.compile(_MODEL + r":(?P<verb>[a-z]+)$")


def error_text(exc):
    """The part of a TensorFlow error a client can act on (an assertion's message)."""
    message = getattr(exc, "message", str(exc))
    asserted = re.search(r"assertion failed: \[(.*?)\](?: \[|$)", message, re.MULTILINE)
    if asserted:
        return asserted.group(1)
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def predict(repository, name, version, body):
    """POST .../<name>[/versions/<v>]:predict."""
    version = repository.resolve(name, version)
    request = parse_json(body)
    signature_name = (request.get("signature_name") if isinstance(request, dict) else None) \
        or "serving_default"
    signatures = repository.signatures(name, version)
    if signature_name not in signatures:
        raise RequestError(f'Serving signature name: "{signature_name}" not found in signature '
                           f'def. Available: {", ".join(sorted(signatures))}.')
    function = signatures[signature_name]
    inputs, fmt = request_inputs(request, function.structured_input_signature[1])
    try:
        outputs = function(**inputs)
    except (tf.errors.InvalidArgumentError, ValueError) as exc:
        raise RequestError(error_text(exc)) from None
    return response_body(outputs, fmt)


class Handler(BaseHTTPRequestHandler):
    """Answers in JSON; errors are ``{"error": ...}`` with TF Serving's status codes."""

    repository = None  # set by make_server
    quiet = True
    protocol_version = "HTTP/1.1"

    def _send(self, code, payload):
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, compute):
        try:
            self._send(200, compute())
        except RequestError as exc:
            self._send(400, {"error": str(exc)})
        except NotFound as exc:
            self._send(404, {"error": str(exc)})
        except Exception as exc:  # the server stays up; the client sees why
            self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    def do_GET(self):
        match = _GET.match(self.path)
        if not match:
            return self._send(404, {"error": f"Malformed request: GET {self.path}"})
        name, version = match["name"], match["version"] and int(match["version"])
        if match["metadata"]:
            return self._answer(lambda: self.repository.metadata(name, version))
        return self._answer(lambda: self.repository.status(name, version))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _POST.match(self.path)
        if not match:
            return self._send(404, {"error": f"Malformed request: POST {self.path}"})
        if match["verb"] != "predict":
            return self._send(400, {"error": f"Only :predict is served here. Received: "
                                             f"verb={match['verb']!r}"})
        name, version = match["name"], match["version"] and int(match["version"])
        self._answer(lambda: predict(self.repository, name, version, body))

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


def make_server(base, host="127.0.0.1", port=8501, quiet=True):
    """A threading HTTP server over the exports in ``base`` (port 0 picks a free port).

    Returns:
        a `ThreadingHTTPServer`; call ``serve_forever()``.
    """
    handler = type("BoundHandler", (Handler,), {"repository": ModelRepository(base),
                                                "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
