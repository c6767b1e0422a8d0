"""Reading text files (globs, explicit encoding) into lines."""

import codecs
import glob
from pathlib import Path

from rnn_pipeline.errors import PipelineError, pipeline_error


def check_encoding(encoding, argument="data.encoding"):
    """Raises a `PipelineError` unless Python knows ``encoding``."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise pipeline_error(
            argument, "must be a text encoding Python knows, e.g. 'utf-8' or 'shift_jis'", encoding
        ) from None


def expand_globs(patterns, argument):
    """Returns the sorted, absolute files matched by ``patterns``; each must match something.

    Args:
        patterns: file paths or glob patterns.
        argument: the config key, for error messages.
    """
    files = []
    for pattern in patterns:
        matched = sorted(glob.glob(str(Path(pattern).expanduser()), recursive=True))
        matched = [m for m in matched if Path(m).is_file()]
        if not matched:
            raise pipeline_error(argument, "must name existing files (paths or globs)", pattern)
        files += [str(Path(m).resolve()) for m in matched]
    return files


def read_lines(path, encoding="utf-8"):
    """Decodes one file and returns its lines without line ends.

    Args:
        path: the file.
        encoding: its text encoding.

    Raises:
        PipelineError: naming the file and the byte offset of undecodable input.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PipelineError(
            f"{path}: cannot decode byte offset {exc.start} (bytes {data[exc.start:exc.end]!r}) "
            f"as {encoding}. Set data.encoding to the file's encoding (e.g. 'shift_jis'). "
            f"Received: data.encoding={encoding!r}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def read_files(files, encoding="utf-8"):
    """Concatenates the lines of several files, in order."""
    lines = []
    for path in files:
        lines += read_lines(path, encoding)
    return lines
