"""Chunk tag schemes (IOB1, IOB2, IO, BIOES) and chunks read with conlleval's rules.

A chunk tag is ``O`` or ``PREFIX-TYPE``; the type may itself hold hyphens
(``B-creative-work``). Chunks are read as conlleval reads them: ``B-`` and ``S-`` always
start a chunk; ``I-`` and ``E-`` continue the chunk before them when it has the same type
and did not end (``E-``, ``S-``), and otherwise start a new one; ``E-`` and ``S-`` end it.
One reading serves every scheme, so converting to IOB2 is: read the chunks, write them
back with ``B-`` on each chunk's first token.
"""

from rnn_pipeline.errors import pipeline_error

SCHEMES = ("bioes", "io", "iob1", "iob2")
_ALIASES = {"iobes": "bioes"}
_PREFIXES = {"iob2": ("B", "I"), "iob1": ("B", "I"), "io": ("I",), "bioes": ("B", "I", "E", "S")}
_STARTS, _ENDS = ("B", "S"), ("E", "S")


def check_scheme(scheme, argument="tagging.scheme"):
    """Returns the scheme's canonical name ('iobes' is 'bioes'), or raises.

    Args:
        scheme: a scheme name.
        argument: the config key named in the error.
    """
    name = _ALIASES.get(scheme, scheme)
    if name not in SCHEMES:
        raise pipeline_error(argument, "must be one of: 'bioes', 'io', 'iob1', 'iob2'", scheme)
    return name


def tag_rule(tag, scheme):
    """What is wrong with ``tag`` under ``scheme`` (a rule for an error message), or None.

    Args:
        tag: one tag.
        scheme: a canonical scheme name (see `check_scheme`).
    """
    if tag == "O":
        return None
    prefix, _, kind = tag.partition("-")
    if prefix in _PREFIXES[scheme] and kind:
        return None
    forms = ", ".join(f"{p}-TYPE" for p in _PREFIXES[scheme])
    return f"must be 'O' or {forms} (scheme {scheme!r})"


def _split(tag):
    if tag == "O":
        return "O", None
    prefix, _, kind = tag.partition("-")
    if prefix not in _PREFIXES["bioes"] or not kind:
        raise pipeline_error("tag", "must be 'O' or B-TYPE, I-TYPE, E-TYPE, S-TYPE", tag)
    return prefix, kind


def _chunk_starts(tags):
    """Yields (index, prefix, type, starts_chunk, ends_previous_chunk) for each tag."""
    previous, previous_type = "O", None
    for index, tag in enumerate(tags):
        prefix, kind = _split(tag)
        starts = prefix != "O" and (prefix in _STARTS or previous in _ENDS or
                                    previous == "O" or previous_type != kind)
        ends_previous = previous != "O" and (starts or prefix == "O")
        yield index, prefix, kind, starts, ends_previous
        previous, previous_type = prefix, kind


def entities(tags):
    """The chunks of one tag sequence, read with conlleval's rules.

    Args:
        tags: tags of one sentence, in any of the schemes (``O``, ``B-``, ``I-``, ``E-``,
            ``S-`` prefixes).

    Returns:
        [(type, start, end)] with ``end`` exclusive, in order.
    """
    chunks, open_chunk = [], None
    for index, prefix, kind, starts, ends_previous in _chunk_starts(tags):
        if ends_previous and open_chunk:
            chunks.append((open_chunk[0], open_chunk[1], index))
            open_chunk = None
        if starts:
            open_chunk = (kind, index)
        if prefix in _ENDS and open_chunk:
            chunks.append((open_chunk[0], open_chunk[1], index + 1))
            open_chunk = None
    if open_chunk:
        chunks.append((open_chunk[0], open_chunk[1], len(tags)))
    return chunks


def count_inconsistent(tags):
    """How many chunks do not begin as their scheme says (an IOB2 ``I-X`` after ``O`` or
    after another type, a BIOES ``I-``/``E-`` that starts a chunk).

    Args:
        tags: tags of one sentence.
    """
    return sum(1 for _, prefix, _, starts, _ in _chunk_starts(tags)
               if starts and prefix not in _STARTS)


def to_iob2(tags, scheme):
    """Converts one sentence's tags to IOB2.

    IOB2 input passes through unchanged (count its breaks with `count_inconsistent`); the
    other schemes are read as chunks and written back as IOB2, so the output is consistent.

    Args:
        tags: tags of one sentence, in ``scheme``.
        scheme: 'iob2', 'iob1', 'io' or 'bioes' (alias 'iobes').

    Returns:
        A new list of IOB2 tags.

    Raises:
        PipelineError: for an unknown scheme or a tag the scheme does not have.
    """
    scheme = check_scheme(scheme)
    for tag in tags:
        rule = tag_rule(tag, scheme)
        if rule:
            raise pipeline_error("tag", rule, tag)
    if scheme == "iob2":
        return list(tags)
    converted = ["O"] * len(tags)
    for kind, start, end in entities(tags):
        converted[start] = f"B-{kind}"
        converted[start + 1:end] = [f"I-{kind}"] * (end - start - 1)
    return converted
