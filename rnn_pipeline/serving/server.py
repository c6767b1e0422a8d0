"""``rnn-pipeline serve``: TF Serving's REST endpoints over HTTP, for development.
Production serving is TensorFlow Serving itself, on the same export folders.

No request can stall it: bodies, rows and words are bounded (`ServeLimits`), a client has
``read_timeout`` seconds to send its request, connections are bounded, and requests run
side by side (`ModelRepository`)."""

import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rnn_pipeline.serving.body import read_body, refuse_body, request_length
from rnn_pipeline.serving.limits import ServeLimits
from rnn_pipeline.serving.playground import route
from rnn_pipeline.serving.predict import run_predict
from rnn_pipeline.serving.repository import ModelRepository
from rnn_pipeline.serving.errors import RequestError, ServingError
from rnn_pipeline.serving.rest import parse_json, request_inputs, response_body

_MODEL = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d{1,18}))?"
_GET = re.compile(_MODEL + r"(?P<metadata>/metadata)?/?$")
_POST = re.compile(_MODEL + r":(?P<verb>[a-z]+)$")


def predict(repository, name, version, body, limits=ServeLimits()):
    """POST .../<name>[/versions/<v>]:predict.

    Args:
        repository: a `ModelRepository`.
        name, version: the model, and its version (None: the latest).
        body: the request body (bytes).
        limits: the `ServeLimits` its rows and words must keep.
    """
    version = repository.resolve(name, version)  # an unknown model is said before bad JSON
    request = parse_json(body)
    signature_name = request.get("signature_name") if isinstance(request, dict) else None
    if not isinstance(signature_name, (str, type(None))):
        raise RequestError(f'"signature_name" must be a string. Received: {signature_name!r}')
    _, _, outputs = run_predict(repository, name, version, signature_name,
                                lambda specs: request_inputs(request, specs)[0], limits)
    return response_body(outputs, "row" if "instances" in request else "columnar")


def json_answer(code, payload, close=False):
    """An HTTP/1.1 response with a JSON body, as bytes."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    reason = BaseHTTPRequestHandler.responses.get(code, ("",))[0]
    head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n" + ("Connection: close\r\n" if close else ""))
    return head.encode("latin-1") + b"\r\n" + data


class Handler(BaseHTTPRequestHandler):
    """Answers in JSON; errors are ``{"error": ...}`` with TF Serving's status codes."""

    repository = None  # set by make_server
    limits = ServeLimits()
    quiet = True
    protocol_version = "HTTP/1.1"
    timeout = limits.read_timeout  # each read of the socket (StreamRequestHandler.setup)

    def _send(self, code, payload, close=False):
        if close:
            self.close_connection = True
        self.connection.settimeout(self.limits.read_timeout)
        self.log_request(code)
        self.wfile.write(json_answer(code, payload, close))

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (a bad request line, too many headers), in JSON."""
        self._send(code, {"error": message or self.responses.get(code, ("",))[0]}, close=True)

    def handle_expect_100(self):
        """``Expect: 100-continue``: a body that is too large or badly announced is refused
        before the client sends it."""
        try:
            length = request_length(self.headers, self.limits)
        except ServingError as exc:
            self._send(exc.status, {"error": str(exc)}, close=True)
            return False
        return super().handle_expect_100() if length else True

    def _answer(self, compute):
        try:
            self._send(200, compute())
        except ServingError as exc:
            self._send(exc.status, {"error": str(exc)})
        except Exception as exc:  # a bug: the server stays up, the client sees no internals
            print(f"rnn-pipeline serve: {self.command} {self.path}: {exc!r}", file=sys.stderr,
                  flush=True)
            self._send(500, {"error": f"Internal error ({type(exc).__name__}); the server's "
                                      f"log has the details"})

    def do_GET(self):
        if route(self):  # the playground: / and /playground/
            return
        match = _GET.match(self.path)
        if not match:
            return self._send(404, {"error": f"Malformed request: GET {self.path}"})
        name, version = match["name"], match["version"] and int(match["version"])
        if match["metadata"]:
            return self._answer(lambda: self.repository.metadata(name, version))
        return self._answer(lambda: self.repository.status(name, version))

    def do_POST(self):
        try:
            length = request_length(self.headers, self.limits)
        except ServingError as exc:
            self._send(exc.status, {"error": str(exc)}, close=True)
            if exc.status == 413:
                refuse_body(self, length=exc.length)
            return
        try:
            body = read_body(self.rfile, self.connection, length, self.limits)
        except ServingError as exc:  # too slow: 408
            return self._send(exc.status, {"error": str(exc)}, close=True)
        except ConnectionError:
            self.close_connection = True
            return
        match = _POST.match(self.path)
        if not match:
            return self._send(404, {"error": f"Malformed request: POST {self.path}"})
        if match["verb"] != "predict":
            return self._send(400, {"error": f"Only :predict is served here. Received: "
                                             f"verb={match['verb']!r}"})
        name, version = match["name"], match["version"] and int(match["version"])
        self._answer(lambda: predict(self.repository, name, version, body, self.limits))

    def _not_allowed(self):
        self._send(405, {"error": f"Only GET and POST are served here. Received: "
                                  f"method={self.command!r}"}, close=True)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once: one more is answered
    503 at once and closed."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog: a burst of clients is not dropped

    def __init__(self, address, handler, max_connections, family=socket.AF_INET):
        self.address_family = family
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_connections = max_connections
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            return self._refuse(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request):
        answer = json_answer(503, {"error": f"The server is serving {self._max_connections} "
                                            f"connections, its limit (serve --max-connections "
                                            f"sets it); try again."}, close=True)
        try:
            request.settimeout(1.0)
            request.sendall(answer)
            request.setblocking(False)
            while request.recv(65536):  # what has arrived: closing over unread data resets
                pass
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request, client_address):
        """A client that hangs up or stalls is not the server's error; others are printed."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def make_server(base, host="127.0.0.1", port=8501, quiet=True, limits=ServeLimits(),
                load=True, repository=None, batching=None):
    """A threading HTTP server over the exports in ``base`` (port 0 picks a free port).

    Args:
        base: the export base folder.
        host, port: where to listen; an IPv6 address works too.
        quiet: no line per request.
        limits: a `ServeLimits`.
        load: load the latest version of every model before serving (TF Serving's start).
        repository: the `ModelRepository` to serve (default: a new one over ``base``), e.g.
            one that a gRPC server (`make_grpc_server`) serves too.
        batching: `BatchingParameters` of the new repository's batcher (None: none).

    Returns:
        a `BoundedHTTPServer` (its ``repository`` attribute the `ModelRepository`); call
        ``serve_forever()``.

    Raises:
        OSError: ``socket.gaierror`` for a host that does not resolve, others for a port
            that cannot be bound.
        ServerFault: a latest version that cannot be loaded.
    """
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    # threads for REST's connections and as many gRPC requests (make_grpc_server), at once
    repository = repository or ModelRepository(base, threads=2 * limits.max_connections + 4,
                                               batching=batching)
    handler = type("BoundHandler", (Handler,), {"repository": repository, "quiet": quiet,
                                                "limits": limits,
                                                "timeout": limits.read_timeout})
    server = BoundedHTTPServer((host, port), handler, limits.max_connections, family)
    server.repository = repository
    if load:  # after binding: a host or port that cannot be used is said at once
        try:
            repository.load_latest()
        except BaseException:
            server.server_close()
            raise
    return server
