"""Readers of tagged sentences: CoNLL-U, CoNLL column files and character-span JSON.

Each reader returns ``(list[TaggedSentence], ReadReport)``; chunk tags come out in IOB2.
Errors are `PipelineError`s naming ``<file>:<line>`` (or ``<file>[<item>]`` in JSON).
"""

import io
import json
from pathlib import Path

import conllu
from conllu.exceptions import ParseException
from conllu.parser import DEFAULT_FIELDS

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.tagging.schemes import check_scheme, count_inconsistent, tag_rule, to_iob2
from rnn_pipeline.tasks.tagging.sentences import ReadReport, TaggedSentence

FORMATS = ("auto", "conll", "conllu", "spans_json")
CONLLU_TAG_COLUMNS = ("upos", "xpos")  # any other column name is a MISC key
_SHOWN = 60  # characters of a bad line shown in an error


def _raw_field(values, index):
    return values[index]


# Columns no tagger reads stay unparsed strings: reading is twice as fast.
_FIELD_PARSERS = {"feats": _raw_field, "head": _raw_field, "deps": _raw_field}


def _shorten(line):
    return line if len(line) <= _SHOWN else line[:_SHOWN - 3] + "..."


def _read_lines(path):
    """The file's UTF-8 lines, without line ends (only ``\\n`` splits lines)."""
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise pipeline_error("path", "must be an existing file of tagged sentences",
                             str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise pipeline_error(f"{path}:{number}", f"cannot be decoded as 'utf-8' (bytes "
                             f"{data[exc.start:exc.end]!r} at byte offset {exc.start})",
                             data[exc.start:exc.start + _SHOWN]) from None
    text = text.removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _chunk_tags(tags, where, scheme, path, report):
    """Checks the tags against ``scheme`` and returns them in IOB2 (None: as they are).

    Args:
        tags: one sentence's tags.
        where: (line number, line) of each tag, for errors.
        scheme: a canonical scheme name, or None for tags that are not chunk tags (POS).
        path: the file, for errors.
        report: the `ReadReport` to count conversions and inconsistencies in.
    """
    if scheme is None:
        return tags
    for tag, (number, line) in zip(tags, where):
        rule = tag_rule(tag, scheme)
        if rule:
            raise pipeline_error(f"{path}:{number}", f"has tag {tag!r}, which {rule}",
                                 _shorten(line))
    if scheme == "iob2":
        report.inconsistent += count_inconsistent(tags)
        return tags
    converted = to_iob2(tags, scheme)
    report.tags_converted += sum(a != b for a, b in zip(tags, converted))
    return converted


def _finish(sentences, report, path):
    if not sentences:
        raise pipeline_error("path", "must hold at least one tagged sentence", str(path))
    report.sentences = len(sentences)
    report.tokens = sum(len(sentence.tokens) for sentence in sentences)
    return sentences, report


def conllu_groups(path, lines):
    """Token lines of each sentence as [(number, line)], grouped as conllu groups them
    (blank lines split); checks each token line's field count.

    Returns:
        (groups, fields): fields is the column list conllu will use.
    """
    fields = list(DEFAULT_FIELDS)
    if lines and lines[0].startswith("# global.columns ="):
        fields = [name.lower() for name in lines[0].split("=", 1)[1].split()]
    groups, group, in_sentence = [], [], False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            if in_sentence:
                groups.append(group)
            group, in_sentence = [], False
            continue
        in_sentence = True
        if stripped.startswith("#"):
            continue
        values = line.split("\t")
        if len(values) != len(fields) or not all(values) or "  " in line:
            rule = (f"must be a CoNLL-U token line: {len(fields)} tab-separated, non-empty "
                    f"fields, no two spaces in a row")
            raise pipeline_error(f"{path}:{number}", rule, _shorten(line))
        group.append((number, line))
    if in_sentence:
        groups.append(group)
    return groups, fields


def _conllu_parse_error(path, group, fields, exc):
    """A `PipelineError` naming the line of ``group`` that conllu cannot parse."""
    for number, line in group:
        try:
            conllu.parse_token_and_metadata(line.strip(), fields, _FIELD_PARSERS)
        except ParseException as line_exc:
            message = str(line_exc).rstrip(".")
            return pipeline_error(f"{path}:{number}", f"is not valid CoNLL-U: {message}",
                                  _shorten(line))
    number, line = group[0] if group else (1, "")
    return pipeline_error(f"{path}:{number}", f"is not valid CoNLL-U: {exc}", _shorten(line))


def _conllu_tag(token, column, path, number, line):
    if column in CONLLU_TAG_COLUMNS:
        value = token.get(column)
        missing = value is None or value == "_"
        what = f"a tag in the {column.upper()} column ('_' is none)"
    else:
        value = (token.get("misc") or {}).get(column)
        missing = value is None
        what = f"{column}=<tag> in the MISC column"
    if missing:
        raise pipeline_error(f"{path}:{number}", f"must have {what}", _shorten(line))
    return value


def read_conllu(path, column="upos", scheme=None):
    """Reads a CoNLL-U file (with the conllu library) into tagged sentences.

    Multi-word token ranges (``3-4``) and empty nodes (``5.1``) are skipped and counted,
    as UD's evaluation scores only the syntactic words.

    Args:
        path: the ``.conllu`` file.
        column: 'upos', 'xpos', or a MISC key (e.g. 'NER' reads ``NER=B-PER``).
        scheme: the chunk scheme of a MISC column ('iob2', 'iob1', 'io', 'bioes'),
            converted to IOB2; None keeps the tags as they are (POS tags).

    Raises:
        PipelineError: naming ``file:line`` for a malformed line or a token without the
            column.
    """
    if not isinstance(column, str) or not column:
        raise pipeline_error("column", "must be 'upos', 'xpos' or a MISC key", column)
    scheme = None if scheme is None else check_scheme(scheme)
    lines = _read_lines(path)
    groups, fields = conllu_groups(path, lines)
    report, sentences = ReadReport(path=str(path)), []
    parsed = conllu.parse_incr(io.StringIO("\n".join(lines)), fields=fields,
                               field_parsers=_FIELD_PARSERS)
    for group in groups:
        try:
            token_list = next(parsed)
        except ParseException as exc:
            raise _conllu_parse_error(path, group, fields, exc) from None
        tokens, tags, where = [], [], []
        for token, (number, line) in zip(token_list, group):
            token_id = token["id"]
            if isinstance(token_id, tuple):
                if token_id[1] == "-":
                    report.multiword_ranges_skipped += 1
                else:
                    report.empty_nodes_skipped += 1
                continue
            tokens.append(token["form"])
            tags.append(_conllu_tag(token, column, path, number, line))
            where.append((number, line))
        if tokens:
            tags = _chunk_tags(tags, where, scheme, path, report)
            sentences.append(TaggedSentence(tokens, tags))
    return _finish(sentences, report, path)


def _conll_fields(line):
    """Fields of a CoNLL line: tab-separated when it has a tab, else space-separated."""
    if "\t" in line:
        return line.rstrip().split("\t")
    return [field for field in line.split(" ") if field]


def read_conll(path, scheme="iob2"):
    """Reads a CoNLL column file: token first, tag last, blank lines between sentences.

    Columns are separated by tabs (WNUT 2017) or spaces (CoNLL-2003); ``-DOCSTART-`` lines
    are skipped and counted; a whitespace-only line is a blank line.

    Args:
        path: the file.
        scheme: the file's chunk scheme ('iob2', 'iob1', 'io', 'bioes'), converted to
            IOB2; None keeps the tags as they are (e.g. POS tags).

    Raises:
        PipelineError: naming ``file:line`` for a line without both a token and a tag, or
            a tag the scheme does not have.
    """
    scheme = None if scheme is None else check_scheme(scheme)
    report, sentences = ReadReport(path=str(path)), []
    tokens, tags, where = [], [], []
    for number, line in enumerate(_read_lines(path) + [""], start=1):
        fields = _conll_fields(line) if line.strip() else []
        if fields and fields[0] == "-DOCSTART-":
            report.documents_skipped += 1
            fields = []
        if not fields:
            if tokens:
                tags = _chunk_tags(tags, where, scheme, path, report)
                sentences.append(TaggedSentence(tokens, tags))
            tokens, tags, where = [], [], []
            continue
        if len(fields) < 2 or not fields[0] or not fields[-1].strip():
            raise pipeline_error(f"{path}:{number}", "must have a token first and a tag last, "
                                 "separated by tabs or spaces", _shorten(line))
        tokens.append(fields[0])
        tags.append(fields[-1].strip())
        where.append((number, line))
    return _finish(sentences, report, path)


def _json_items(path):
    lines = _read_lines(path)
    try:
        items = json.loads("\n".join(lines))
    except json.JSONDecodeError as exc:
        line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
        raise pipeline_error(f"{path}:{exc.lineno}", f"must be valid JSON ({exc.msg})",
                             _shorten(line)) from None
    if not isinstance(items, list):
        raise pipeline_error(str(path), "must hold a JSON list of {'text', 'entities'} "
                             "objects", type(items).__name__)
    return items


def _checked_entities(item, where):
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) \
            or not item["text"] or not isinstance(item.get("entities", []), list):
        raise pipeline_error(where, "must be an object with a non-empty 'text' and a list "
                             "of 'entities'", _shorten(repr(item)))
    for number, entity in enumerate(item.get("entities", [])):
        span = entity.get("span") if isinstance(entity, dict) else None
        if not (isinstance(span, list) and len(span) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in span)
                and isinstance(entity.get("type"), str) and entity["type"]):
            raise pipeline_error(f"{where}.entities[{number}]", "must be an object with "
                                 "'span': [start, end] (integers) and a non-empty 'type'",
                                 _shorten(repr(entity)))
    return item.get("entities", [])


def _span_tags(length, spans, report):
    """IOB2 tags of ``length`` characters from [(start, end, type)]; a span out of range,
    empty or overlapping an earlier one is counted in ``report`` and skipped."""
    tags = ["O"] * length
    for start, end, kind in spans:
        report.spans += 1
        if not 0 <= start < end <= length or any(t != "O" for t in tags[start:end]):
            report.spans_skipped += 1
            continue
        tags[start] = f"B-{kind}"
        tags[start + 1:end] = [f"I-{kind}"] * (end - start - 1)
    return tags


def read_spans_json(path, tokenizer="character"):
    """Reads a JSON list of {"text", "entities": [{"span": [start, end), "type"}]} (the
    Japanese Wikipedia NER format) into per-character IOB2 tags.

    Args:
        path: the JSON file.
        tokenizer: 'character' (each character, spaces included, is a token).

    Raises:
        PipelineError: for invalid JSON (naming ``file:line``) or a malformed item (naming
            ``file[index]``). Spans out of range, empty or overlapping an earlier span of
            the same text are counted in the report (``spans_skipped``), not fatal.
    """
    if tokenizer != "character":
        raise pipeline_error("tokenizer", "must be one of: 'character'", tokenizer)
    report, sentences = ReadReport(path=str(path)), []
    for index, item in enumerate(_json_items(path)):
        entities = _checked_entities(item, f"{path}[{index}]")
        spans = [(e["span"][0], e["span"][1], e["type"]) for e in entities]
        text = item["text"]
        sentences.append(TaggedSentence(list(text), _span_tags(len(text), spans, report)))
    return _finish(sentences, report, path)


def read_tagged(path, format="auto", column="upos", scheme="iob2"):
    """Reads tagged sentences in any supported format.

    Args:
        path: the file.
        format: 'auto' (``.conllu`` is CoNLL-U, ``.json`` is spans JSON, anything else
            CoNLL), 'conll', 'conllu' or 'spans_json'.
        column: the CoNLL-U column (see `read_conllu`).
        scheme: the chunk scheme of CoNLL tags and of a CoNLL-U MISC column (UPOS and XPOS
            are read as they are).

    Returns:
        (list[TaggedSentence], ReadReport).
    """
    if format not in FORMATS:
        raise pipeline_error("data.format", "must be one of: 'auto', 'conll', 'conllu', "
                             "'spans_json'", format)
    if format == "auto":
        suffix = Path(path).suffix.lower()
        format = {".conllu": "conllu", ".json": "spans_json"}.get(suffix, "conll")
    if format == "conllu":
        return read_conllu(path, column, None if column in CONLLU_TAG_COLUMNS else scheme)
    if format == "spans_json":
        return read_spans_json(path)
    return read_conll(path, scheme)
