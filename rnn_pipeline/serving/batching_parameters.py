"""TF Serving's ``--batching_parameters_file``: the ``BatchingParameters`` message of
tensorflow_serving/servables/tensorflow/session_bundle_config.proto, in protobuf text
format, read strictly (tensorflow-serving-api does not ship that proto).

    max_batch_size { value: 32 }       # Int64Value fields: max_batch_size,
    batch_timeout_micros { value: 1000 }  # batch_timeout_micros, max_enqueued_batches,
    allowed_batch_sizes: 16            # num_batch_threads; thread_pool_name is a
    allowed_batch_sizes: 32            # StringValue; allowed_batch_sizes: repeated int64
    pad_variable_length_inputs: true   # (or [16, 32]); pad_variable_length_inputs: bool

Omitted fields take the defaults TF Serving's scheduler takes. No TensorFlow needed."""

import ast
import dataclasses
import os
import re
from pathlib import Path

BATCHING_FILE = "batching_parameters.txt"
_WRAPPED_INT = ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                "num_batch_threads")
FIELDS = (*_WRAPPED_INT, "thread_pool_name", "allowed_batch_sizes",
          "pad_variable_length_inputs")
_TOKEN = re.compile(r'\s+|#[^\n]*|(?P<token>[A-Za-z_][A-Za-z0-9_]*|[-+]?(?:0[xX][0-9a-fA-F]+'
                    r'|[0-9]+)|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[{}<>:\[\],;])')
_TRUE, _FALSE = ("true", "True", "t", "1"), ("false", "False", "f", "0")
_INT64 = 2**63 - 1


class BatchingParametersError(ValueError):
    """A batching parameters file that is not a valid ``BatchingParameters``."""


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's batching parameters, with its scheduler's defaults.

    Args:
        max_batch_size: rows of one batch, at most.
        batch_timeout_micros: how long a batch's first request waits for others.
        max_enqueued_batches: batches waiting for a thread; one more is refused (503).
        num_batch_threads: batches run at once.
        thread_pool_name: the threads' name.
        allowed_batch_sizes: sizes a batch is padded up to (increasing; the last is
            ``max_batch_size``); empty: no padding.
        pad_variable_length_inputs: merge requests whose inputs differ past the batch
            axis, padding them (strings with b"", numbers with 0).
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    thread_pool_name: str = "batch_threads"
    allowed_batch_sizes: tuple = ()
    pad_variable_length_inputs: bool = False


def _tokens(text, source):
    """[(token, line)] of the text; an unreadable character is an error."""
    tokens, line, at = [], 1, 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise BatchingParametersError(
                f"{source}, line {line}: must be protobuf text format of BatchingParameters. "
                f"Received: {text[at:at + 20].splitlines()[0]!r}")
        if match["token"]:
            tokens.append((match["token"], line))
        line += match.group().count("\n")
        at = match.end()
    return tokens


class _Reader:
    """Reads fields from the tokens; every error names the file and the line."""

    def __init__(self, text, source):
        self.source, self.tokens, self.at = source, _tokens(text, source), 0

    def fail(self, line, field, rule, received):
        raise BatchingParametersError(f"{self.source}, line {line}: {field} {rule}. "
                                      f"Received: {field}={received}")

    def peek(self):
        if self.at < len(self.tokens):
            return self.tokens[self.at]
        return "end of file", self.tokens[-1][1] if self.tokens else 1

    def take(self, field, expected, what):
        token, line = self.peek()
        if token not in expected:
            self.fail(line, field, f"must be followed by {what}", token)
        self.at += 1
        return token

    def value(self, field, kind):
        token, line = self.peek()
        self.at += 1
        if kind == "int":
            try:
                number = int(token, 0)
            except ValueError:
                self.fail(line, field, "must be an integer", token)
            if not -_INT64 - 1 <= number <= _INT64:
                self.fail(line, field, "must fit an int64", token)
            return number
        if kind == "bool":
            if token not in _TRUE + _FALSE:
                self.fail(line, field, "must be true or false", token)
            return token in _TRUE
        if token[:1] not in ("'", '"'):
            self.fail(line, field, "must be a quoted string", token)
        return ast.literal_eval(token)

    def wrapped(self, field, kind):
        """``{ value: V }`` (or ``< value: V >``, a ':' before it optional); ``{}`` is 0."""
        if self.peek()[0] == ":":
            self.at += 1
        close = {"{": "}", "<": ">"}[self.take(field, ("{", "<"), "'{ value: ... }'")]
        value = 0 if kind == "int" else ""
        if self.peek()[0] == "value":
            self.at += 1
            self.take(field, (":",), "'value:'")
            value = self.value(field, kind)
        self.take(field, (close,), f"{close!r} (only 'value' is inside a wrapper)")
        return value

    def scalar(self, field, kind):
        """``: V``."""
        self.take(field, (":",), "':'")
        return self.value(field, kind)

    def repeated(self, field, kind):
        """``: V`` or ``: [V, V, ...]``: a list of values."""
        self.take(field, (":",), "':'")
        if self.peek()[0] != "[":
            return [self.value(field, kind)]
        self.at += 1
        values = []
        while self.peek()[0] != "]":
            values.append(self.value(field, kind))
            if self.peek()[0] != "]":
                self.take(field, (",",), "',' or ']' in its list")
        self.at += 1
        return values


def _fields(reader):
    """{field: value} of the file, each field once (allowed_batch_sizes: a list)."""
    found, lines = {}, {}
    while reader.at < len(reader.tokens):
        name, line = reader.tokens[reader.at]
        reader.at += 1
        if name not in FIELDS:
            reader.fail(line, "field", f"must be one of BatchingParameters' fields "
                                       f"({', '.join(FIELDS)})", name)
        if name in found and name != "allowed_batch_sizes":
            reader.fail(line, name, "must be given once (it is not a repeated field)",
                        "a second value")
        if name in _WRAPPED_INT or name == "thread_pool_name":
            found[name] = reader.wrapped(name, "int" if name in _WRAPPED_INT else "str")
        elif name == "allowed_batch_sizes":
            found[name] = found.get(name, []) + reader.repeated(name, "int")
        else:
            found[name] = reader.scalar(name, "bool")
        lines.setdefault(name, line)
        if reader.peek()[0] in ",;":
            reader.at += 1
    return found, lines


def _check(parameters, lines, reader):
    """TF Serving's rules for the values."""
    for name, low in (("max_batch_size", 1), ("batch_timeout_micros", 0),
                      ("max_enqueued_batches", 1), ("num_batch_threads", 1)):
        if getattr(parameters, name) < low:
            reader.fail(lines.get(name), name, f"must be at least {low}",
                        getattr(parameters, name))
    if parameters.num_batch_threads > 1024:
        reader.fail(lines["num_batch_threads"], "num_batch_threads", "must be at most 1024",
                    parameters.num_batch_threads)
    sizes = parameters.allowed_batch_sizes
    if not sizes:
        return
    line = lines["allowed_batch_sizes"]
    if sizes[0] < 1 or any(b <= a for a, b in zip(sizes, sizes[1:])):
        reader.fail(line, "allowed_batch_sizes", "must be positive and increasing (TF "
                    "Serving's rule)", list(sizes))
    if sizes[-1] != parameters.max_batch_size:
        reader.fail(line, "allowed_batch_sizes", f"must end with max_batch_size "
                    f"({parameters.max_batch_size}; TF Serving's rule)", list(sizes))


def parse_batching_parameters(text, source="batching parameters"):
    """A `BatchingParameters` from its text format; `BatchingParametersError` (one line,
    naming ``source`` and the line) for anything else.

    Args:
        text: the file's text.
        source: the file's name, for errors.
    """
    reader = _Reader(text, source)
    found, lines = _fields(reader)
    if "allowed_batch_sizes" in found:
        found["allowed_batch_sizes"] = tuple(found["allowed_batch_sizes"])
    parameters = BatchingParameters(**found)
    _check(parameters, lines, reader)
    return parameters


def read_batching_parameters(path):
    """`parse_batching_parameters` of the file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BatchingParametersError(f"{path} must be UTF-8 text. Received: "
                                      f"{exc.reason} at byte {exc.start}") from None
    return parse_batching_parameters(text, str(path))


EXAMPLE = """\
# Server-side batching: TF Serving's BatchingParameters (session_bundle_config.proto).
# TF Serving: tensorflow_model_server --model_config_file=/models/models.config
#   --enable_batching --batching_parameters_file=/models/batching_parameters.txt
# Development server: rnn-pipeline serve --base BASE --batching-parameters
#   BASE/batching_parameters.txt
# Concurrent requests to one signature are merged into one run of up to max_batch_size
# rows; the first waits at most batch_timeout_micros for others.
max_batch_size { value: 32 }
batch_timeout_micros { value: 1000 }
max_enqueued_batches { value: 100 }
num_batch_threads { value: 2 }
# Pad every batch up to one of these sizes (accelerators compile one program per size;
# on CPUs padding only costs); increasing, the last equal to max_batch_size:
# allowed_batch_sizes: [8, 16, 32]
pad_variable_length_inputs: false
"""


def write_example(base):
    """Writes `EXAMPLE` to ``<base>/batching_parameters.txt`` unless a file of that name is
    there (a user's own parameters are kept). Returns its `Path`."""
    path = Path(base) / BATCHING_FILE
    if not path.exists():
        staging = path.with_name(f".{BATCHING_FILE}.{os.getpid()}.tmp")
        staging.write_text(EXAMPLE, encoding="utf-8")
        try:
            os.link(staging, path)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path
