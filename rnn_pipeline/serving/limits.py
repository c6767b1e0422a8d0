"""What one request may ask of ``rnn-pipeline serve``, so that no request can stall it:
its size, its rows, the words it makes a model read or write, and the time its client
may take to send it."""

import dataclasses
import math

import numpy as np

from rnn_pipeline.serving.errors import RequestError

# A text counts as its whitespace-separated words, or as one word per this many bytes
# when that is more: a text without spaces (Japanese, a character model) is bounded too.
BYTES_PER_WORD = 10


@dataclasses.dataclass(frozen=True)
class ServeLimits:
    """The limits of one server; each is a ``serve`` option of the same name.

    Args:
        max_request_bytes: the largest request body (larger: 413, unread).
        max_instances: rows per request.
        max_words: words one request may make a model read or write: its rows x its
            longest row (rows are padded to the longest), counting a row's texts and its
            ``max_tokens``.
        read_timeout: seconds a client may take to send a request (and to send the next
            one on a kept-alive connection).
        max_connections: connections served at once; more are answered 503.
    """

    max_request_bytes: int = 4 * 2**20
    max_instances: int = 1000
    max_words: int = 20_000
    read_timeout: float = 30.0
    max_connections: int = 64


def text_words(text):
    """The words of one text (bytes), as `ServeLimits.max_words` counts them."""
    return max(len(text.split()), math.ceil(len(text) / BYTES_PER_WORD))


def row_words(inputs):
    """Words of each row: its texts (string inputs of one value per row) and, for a
    generation signature, its ``max_tokens``.

    Args:
        inputs: {input name: NumPy array}, one row per first index.

    Returns:
        int64 NumPy array (rows,).
    """
    rows = len(next(iter(inputs.values())))
    words = np.zeros(rows, np.int64)
    for name, array in inputs.items():
        if array.dtype == object and array.ndim == 1:
            words += np.fromiter((text_words(text) for text in array), np.int64, rows)
        elif name == "max_tokens" and array.ndim == 1:
            words += np.maximum(array.astype(np.int64), 0)
    return words


def check_work(inputs, limits):
    """Refuses (400) a request with more rows or words than ``limits`` allow, naming the
    ``serve`` option that sets the limit.

    Args:
        inputs: the request's inputs, as `rest.request_inputs` returns them.
        limits: a `ServeLimits`.
    """
    rows = len(next(iter(inputs.values())))
    if rows > limits.max_instances:
        raise RequestError(f"instances must be at most {limits.max_instances} per request "
                           f"(serve --max-instances sets it). Received: instances={rows}")
    words = row_words(inputs)
    longest = int(words.max()) if rows else 0
    if rows * longest > limits.max_words:
        raise RequestError(
            f"words must be at most {limits.max_words} per request, counted as rows x the "
            f"longest row's words and max_tokens (serve --max-words sets it; send long texts "
            f"in requests of their own). Received: words={rows * longest} (rows {rows} x "
            f"{longest})")
