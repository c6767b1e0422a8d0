"""Reading a request body within the server's limits: its announced length checked before
any of it is read, and the whole of it due within ``read_timeout`` seconds."""

import re
import socket
import time

from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.errors import RequestError, ServingError


class LengthRequired(ServingError):
    """A body without a length (chunked): HTTP 411."""

    status = 411


class PayloadTooLarge(ServingError):
    """A body over ``max_request_bytes``: HTTP 413, answered before it is read.

    Args:
        message: the error.
        length: the body's announced length.
    """

    status = 413

    def __init__(self, message, length):
        super().__init__(message)
        self.length = length


class RequestTimeout(ServingError):
    """A body that did not arrive within ``read_timeout``: HTTP 408."""

    status = 408


def request_length(headers, limits):
    """The body's length from its ``Content-Length`` header (0 without one), checked.

    Args:
        headers: the request's headers (an `email.message.Message`).
        limits: a `ServeLimits`.

    Raises:
        RequestError: a length that is not a whole number, or two different ones.
        LengthRequired: a chunked body.
        PayloadTooLarge: a length over ``limits.max_request_bytes``.
    """
    if headers.get("Transfer-Encoding"):
        raise LengthRequired(f"Transfer-Encoding is not read here; send a Content-Length. "
                             f"Received: Transfer-Encoding={headers['Transfer-Encoding']!r}")
    values = {value.strip() for value in headers.get_all("Content-Length") or []}
    if len(values) > 1:
        raise RequestError(error_message("Content-Length", "must be given once",
                                         ", ".join(sorted(values))))
    value = values.pop() if values else "0"
    if not re.fullmatch(r"[0-9]{1,30}", value):
        raise RequestError(error_message("Content-Length", "must be a whole number of bytes",
                                         value))
    length = int(value)
    if length > limits.max_request_bytes:
        raise PayloadTooLarge(error_message(
            "Content-Length", f"must be at most {limits.max_request_bytes} bytes (serve "
            f"--max-request-bytes sets it)", length), length)
    return length


def read_body(rfile, connection, length, limits):
    """The ``length`` bytes of a body, all due within ``limits.read_timeout`` seconds.

    Args:
        rfile: the connection's buffered reader.
        connection: its socket (whose timeout is set to the time left).
        length: the body's length.
        limits: a `ServeLimits`.

    Raises:
        RequestTimeout: the body was late.
        ConnectionAbortedError: the client closed the connection before sending it all.
    """
    deadline = time.monotonic() + limits.read_timeout
    chunks, received = [], 0
    while received < length:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            connection.settimeout(left)
            chunk = rfile.read1(min(length - received, 1 << 16))
        except TimeoutError:
            raise RequestTimeout(
                f"The request body did not arrive within {limits.read_timeout:g} s (serve "
                f"--read-timeout sets it): {received} of its {length} bytes came. Received: "
                f"Content-Length={length}") from None
        if not chunk:
            raise ConnectionAbortedError("the client closed the connection")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def refuse_body(handler, length):
    """After a 413 has been sent: ends the answer and reads and drops what the client still
    sends (at most ``length`` bytes, for at most ``read_timeout`` seconds), so that the
    client, which writes its whole body before it reads, gets the 413 instead of a reset
    connection.

    Args:
        handler: the `BaseHTTPRequestHandler` of the request.
        length: the body's announced length.
    """
    connection = handler.connection
    deadline = time.monotonic() + handler.limits.read_timeout
    try:
        handler.wfile.flush()
        connection.shutdown(socket.SHUT_WR)
        while length > 0 and time.monotonic() < deadline:
            connection.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = handler.rfile.read1(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)
    except OSError:  # a reset or a timeout: the connection closes either way
        pass
