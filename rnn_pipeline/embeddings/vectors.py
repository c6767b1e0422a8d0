"""Reading word vectors: GloVe text, word2vec text and word2vec binary, each optionally
gzip-compressed.

Our own reader rather than gensim's ``KeyedVectors.load_word2vec_format``: gensim names
no line for a malformed file ("could not broadcast input array from shape (2,) into
shape (3,)"), and the issue asks for the line. The tests check both readers give
identical matrices on every format.
"""

import gzip
from dataclasses import dataclass, field

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry

VECTOR_FORMATS = Registry("embeddings.format")
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class WordVectors:
    """Words and their vectors, in file order.

    Args:
        words: the words; a repeated word keeps its first vector.
        matrix: (count, dim) float32.
        source: the file they came from.
    """

    words: list
    matrix: np.ndarray
    source: str = ""
    index: dict = field(init=False, repr=False)

    def __post_init__(self):
        self.index = {}
        for i, word in enumerate(self.words):
            self.index.setdefault(word, i)

    @property
    def dim(self):
        return int(self.matrix.shape[1])

    def __len__(self):
        return len(self.words)


def _open(path):
    """A binary file object, gunzipped when the file starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _decode(raw, path, where):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise pipeline_error("embeddings.file", f"must be UTF-8; {where} is not "
                             f"({exc.reason} at byte {exc.start})", str(path)) from None


def _header(line):
    """(count, dim) of a word2vec header line, or None when the line is not one."""
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _parse_line(line, dim, path, line_number):
    parts = line.rstrip().split(" ")
    if dim is not None and len(parts) != dim + 1:
        raise pipeline_error("embeddings.file", f"must have a word and {dim} numbers on every "
                             f"line; line {line_number} has {len(parts) - 1} numbers", str(path))
    try:
        with np.errstate(over="ignore"):  # beyond float32 -> Inf, refused by `_check_finite`
            return parts[0], np.asarray(parts[1:], dtype=np.float32)
    except ValueError:
        raise pipeline_error("embeddings.file", f"must have numbers after the word; line "
                             f"{line_number} has {' '.join(parts[1:4])!r}...", str(path)) from None


def _check_finite(words, matrix, path, where):
    """Every value finite: a NaN or Inf (or a number beyond float32's range, read as Inf)
    would make the model's loss NaN at its first step.

    Args:
        words, matrix: the vectors read, in file order.
        path: the file.
        where: row index -> its place in the file, e.g. "line 3".
    """
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if bad.size:
        row = matrix[bad[0]]
        value = row[~np.isfinite(row)][0]
        raise pipeline_error("embeddings.file", f"must hold finite numbers (no NaN or Inf, "
                             f"none beyond float32's range); {where(bad[0])} (word "
                             f"{words[bad[0]]!r}) has {value}, and {bad.size:,} vectors in "
                             f"all have such values", str(path))


def _read_text(path, with_header):
    words, rows, dim, count, line_numbers = [], [], None, None, []
    with _open(path) as f:
        for line_number, raw in enumerate(f, start=1):
            line = _decode(raw, path, f"line {line_number}")
            if line_number == 1 and with_header:
                header = _header(line)
                if header is None:
                    raise pipeline_error("embeddings.file", "must start with a '<count> <dim>' "
                                         "line in word2vec text format", str(path))
                count, dim = header
                continue
            if not line.strip():
                continue
            word, vector = _parse_line(line, dim, path, line_number)
            if dim is None:
                dim = len(vector)
                if dim == 0:
                    raise pipeline_error("embeddings.file", f"must have numbers after the "
                                         f"word; line {line_number} has none", str(path))
            words.append(word)
            rows.append(vector)
            line_numbers.append(line_number)
    if count is not None and count != len(words):
        raise pipeline_error("embeddings.file", f"must hold the {count:,} vectors its header "
                             f"declares; it has {len(words):,}", str(path))
    if not words:
        raise pipeline_error("embeddings.file", "must contain at least one vector", str(path))
    matrix = np.stack(rows)
    _check_finite(words, matrix, path, lambda row: f"line {line_numbers[row]}")
    return WordVectors(words, matrix, str(path))


@VECTOR_FORMATS.register("glove")
def read_glove(path):
    """GloVe text: ``word x1 ... xd`` per line, no header."""
    return _read_text(path, with_header=False)


@VECTOR_FORMATS.register("word2vec_text")
def read_word2vec_text(path):
    """word2vec text: a ``count dim`` header line, then ``word x1 ... xd`` per line."""
    return _read_text(path, with_header=True)


@VECTOR_FORMATS.register("word2vec_binary")
def read_word2vec_binary(path):
    """word2vec binary: a ``count dim`` text header, then per word its UTF-8 bytes, one
    space and ``dim`` little-endian float32 values (optionally followed by a newline)."""
    with _open(path) as f:
        header = _header(_decode(f.readline(), path, "line 1"))
        if header is None:
            raise pipeline_error("embeddings.file", "must start with a '<count> <dim>' line "
                                 "in word2vec binary format", str(path))
        count, dim = header
        words, matrix = [], np.empty((count, dim), np.float32)
        for i in range(count):
            word = bytearray()
            while (char := f.read(1)) != b" ":
                if not char:
                    raise pipeline_error("embeddings.file", f"must hold the {count:,} vectors "
                                         f"its header declares; it ends in vector {i + 1}",
                                         str(path))
                if char != b"\n" or word:
                    word += char
            values = f.read(4 * dim)
            if len(values) != 4 * dim:
                raise pipeline_error("embeddings.file", f"must hold {dim} float32 values per "
                                     f"vector; vector {i + 1} ({bytes(word)!r}) is cut short",
                                     str(path))
            words.append(_decode(bytes(word), path, f"the word of vector {i + 1}"))
            matrix[i] = np.frombuffer(values, dtype="<f4")
    _check_finite(words, matrix, path, lambda row: f"vector {row + 1}")
    return WordVectors(words, matrix, str(path))


def detect_format(path):
    """"word2vec_binary" for ``*.bin[.gz]``; otherwise "word2vec_text" when the first line
    is a ``count dim`` header, else "glove"."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith(".bin"):
        return "word2vec_binary"
    with _open(path) as f:
        first = f.readline()
    return "word2vec_text" if _header(first.decode("utf-8", "replace")) else "glove"


def check_format(format):
    """Raises a `PipelineError` unless ``format`` is "auto" or a registered format."""
    if format != "auto" and format not in VECTOR_FORMATS:
        choices = ", ".join(repr(n) for n in ["auto", *VECTOR_FORMATS.names()])
        raise pipeline_error("embeddings.format", f"must be one of: {choices}", format)


def read_vectors(path, format="auto"):
    """Reads a vectors file.

    Args:
        path: the file (gzip-compressed or not).
        format: "auto", "glove", "word2vec_text" or "word2vec_binary".

    Returns:
        a `WordVectors`.
    """
    check_format(format)
    try:
        if format == "auto":
            format = detect_format(path)
        return VECTOR_FORMATS.get(format)(path)
    except FileNotFoundError:
        raise pipeline_error("embeddings.file", "must be an existing vectors file",
                             str(path)) from None
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise pipeline_error("embeddings.file", f"must be a readable vectors file ({exc})",
                             str(path)) from None

