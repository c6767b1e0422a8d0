"""The server's answers other than 200, as exceptions (no TensorFlow needed)."""


class ServingError(Exception):
    """An answer other than 200: HTTP ``status`` with ``{"error": message}``."""

    status = 500


class RequestError(ServingError, ValueError):
    """A client mistake: HTTP 400."""

    status = 400
