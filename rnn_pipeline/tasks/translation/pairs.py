"""Sentence pairs (translation data): reading, splitting by source sentence, length filters.

A pairs file has one pair a line, ``source<TAB>target``; further tab-separated columns (such
as Tatoeba's attribution) are kept in the file and dropped in memory.
"""

import codecs
import math
import numbers
import unicodedata
from pathlib import Path

import numpy as np

from rnn_pipeline.data.readers import check_encoding
from rnn_pipeline.errors import pipeline_error

_SHOWN = 60  # characters of a bad line shown in an error
_GUESSES = ("utf-8", "shift_jis", "euc_jp", "cp1252")


def _shorten(line):
    return line if len(line) <= _SHOWN else line[:_SHOWN - 3] + "..."


def _decode(data, path, encoding):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line_number = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        line = data[start:end if end >= 0 else len(data)].rstrip(b"\r")
        rule = (f"cannot be decoded as {encoding!r} "
                f"(bytes {data[exc.start:exc.end]!r} at byte offset {exc.start})")
        for guess in _GUESSES:
            if codecs.lookup(guess).name == codecs.lookup(encoding).name:
                continue
            try:
                data.decode(guess)
            except UnicodeDecodeError:
                continue
            rule += f"; the file decodes as {guess!r}: pass encoding={guess!r}"
            break
        raise pipeline_error(f"{path}:{line_number}", rule, line[:_SHOWN]) from None


def read_pairs(path, encoding="utf-8"):
    """Reads ``source<TAB>target[<TAB>...]`` lines into a list of (source, target) tuples.

    Args:
        path: the file.
        encoding: its text encoding.

    Raises:
        PipelineError: for a missing or empty file, undecodable bytes, a line without a
            tab or with an empty side, naming ``path:line`` (1-based). Only an empty final
            line (after the last newline) is skipped.
    """
    check_encoding(encoding, "encoding")
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise pipeline_error("path", "must be an existing file of sentence pairs",
                             str(path)) from None
    text = _decode(data, path, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    pairs = []
    for number, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line = line[:-1]
        fields = line.split("\t", 2)
        if len(fields) < 2:
            raise pipeline_error(f"{path}:{number}", "must be 'source<TAB>target'",
                                 _shorten(line))
        for side, value in (("source (before the first tab)", fields[0]),
                            ("target (after the first tab)", fields[1])):
            if not value.strip():
                raise pipeline_error(f"{path}:{number}", f"must have a non-empty {side}",
                                     _shorten(line))
        pairs.append((fields[0], fields[1]))
    if not pairs:
        raise pipeline_error("path", "must hold at least one 'source<TAB>target' line",
                             str(path))
    return pairs


def _check_fraction(argument, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise pipeline_error(argument, "must be a number in [0, 1)", value)


def source_key(source):
    """What makes two sources the same sentence: NFKC, lower case, no punctuation, single
    spaces ("Go!" and "go." are one sentence)."""
    text = unicodedata.normalize("NFKC", source).lower()
    text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    return " ".join(text.split())


def split_by_source(pairs, valid_fraction, test_fraction, seed):
    """Splits pairs so that no source sentence is in two splits, even up to case and
    punctuation (`source_key`).

    The distinct source keys are sorted, shuffled with ``numpy.random.default_rng(seed)``
    and assigned, whole groups at a time, to test, then valid, then train. Each split keeps
    the shuffled group order; a group's pairs stay adjacent, in input order.

    Args:
        pairs: (source, target) tuples.
        valid_fraction: fraction of distinct sources for "valid" (rounded half up).
        test_fraction: fraction of distinct sources for "test" (rounded half up).
        seed: the shuffle seed.

    Returns:
        {"train": [...], "valid": [...], "test": [...]}.

    Raises:
        PipelineError: for a fraction outside [0, 1), fractions summing to 1 or more, or
            too few sources to leave any for "train".
    """
    _check_fraction("pairs.valid_fraction", valid_fraction)
    _check_fraction("pairs.test_fraction", test_fraction)
    if valid_fraction + test_fraction >= 1:
        raise pipeline_error("pairs.valid_fraction + pairs.test_fraction", "must be less than 1",
                             valid_fraction + test_fraction)
    groups = {}
    for pair in pairs:
        groups.setdefault(source_key(pair[0]), []).append(tuple(pair))
    sources = sorted(groups)
    order = [sources[i] for i in np.random.default_rng(seed).permutation(len(sources))]
    n_test = math.floor(test_fraction * len(order) + 0.5)
    n_valid = math.floor(valid_fraction * len(order) + 0.5)
    if n_test + n_valid >= len(order):
        raise pipeline_error(
            "pairs", f"must have more distinct sources than valid and test take ({n_valid} + "
                     f"{n_test} with valid_fraction={valid_fraction}, "
                     f"test_fraction={test_fraction})", f"{len(order)} distinct sources")
    cuts = {"test": order[:n_test], "valid": order[n_test:n_test + n_valid],
            "train": order[n_test + n_valid:]}
    return {name: [pair for source in cuts[name] for pair in groups[source]]
            for name in ("train", "valid", "test")}


def _check_limit(argument, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                              or value < 1):
        raise pipeline_error(argument, "must be None or an integer of at least 1", value)


def filter_by_length(pairs, max_source_words=None, max_target_chars=None):
    """Keeps the pairs within length limits.

    Args:
        pairs: (source, target) tuples.
        max_source_words: most whitespace-separated words in the source; None: no limit.
        max_target_chars: most characters in the target; None: no limit.

    Returns:
        (kept pairs, number dropped).
    """
    _check_limit("data.max_source_words", max_source_words)
    _check_limit("data.max_target_chars", max_target_chars)
    kept = [(source, target) for source, target in pairs
            if (max_source_words is None or len(source.split()) <= max_source_words)
            and (max_target_chars is None or len(target) <= max_target_chars)]
    return kept, len(pairs) - len(kept)
