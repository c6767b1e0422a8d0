"""Files to tag (``rnn-pipeline tag --input``): the tokens of a file in a reader format,
and the same file written back with the predicted tags.

* CoNLL column files: the first field of each line is the token (a tag column, if any, is
  replaced); the output is ``token<TAB>tag`` lines, a blank line between sentences.
* CoNLL-U: the syntactic words' forms; the output keeps every line and comment and puts
  the tag in the run's column (UPOS, XPOS, or ``KEY=tag`` in MISC).
* Character-span JSON: each item's ``text``, one token per character; the output is the
  list with ``entities`` replaced by the predicted spans.
* Plain text (``.txt``): one sentence per line, tokenized as ``--text`` is; the output
  is ``token<TAB>tag`` lines.
"""

import json
from pathlib import Path

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.tagging.readers import (_conll_fields, _json_items, _read_lines,
                                                conllu_groups)
from rnn_pipeline.tasks.tagging.schemes import entities

INPUT_FORMATS = ("auto", "conll", "conllu", "spans_json", "text")
_UPOS, _XPOS, _MISC = 3, 4, 9  # CoNLL-U column indexes


def input_format(path, format):
    """The format of ``path``: ``format``, or for "auto" its suffix's (``.conllu``,
    ``.json``, ``.txt``; anything else is CoNLL)."""
    if format != "auto":
        return format
    return {".conllu": "conllu", ".json": "spans_json",
            ".txt": "text"}.get(Path(path).suffix.lower(), "conll")


def _no_sentences(path):
    return pipeline_error("--input", "must hold at least one sentence to tag", str(path))


class ConllFile:
    """Tokens of a CoNLL column file (or of plain text lines, with ``tokenize``)."""

    def __init__(self, path, tokenize=None):
        self.sentences, tokens = [], []
        for line in _read_lines(path) + [""]:
            if tokenize is not None:
                words = tokenize(line) if line.strip() else []
                self.sentences += [words] if words else []
                continue
            fields = _conll_fields(line) if line.strip() else []
            if fields and fields[0] != "-DOCSTART-":
                tokens.append(fields[0])
            elif tokens:
                self.sentences.append(tokens)
                tokens = []
        if not self.sentences:
            raise _no_sentences(path)

    def text(self, tags, column):
        del column
        lines = []
        for tokens, labels in zip(self.sentences, tags):
            lines += [f"{t}\t{g}" for t, g in zip(tokens, labels)] + [""]
        return "\n".join(lines) + "\n"


class ConlluFile:
    """The syntactic words of a CoNLL-U file, and the file with a column filled in."""

    def __init__(self, path):
        self.lines = _read_lines(path)
        groups, fields = conllu_groups(path, self.lines)
        if len(fields) != 10:
            raise pipeline_error(str(path), "must have the 10 standard CoNLL-U columns to "
                                 "be tagged", len(fields))
        self.words = []  # per sentence: the line indexes of its syntactic words
        for group in groups:
            indexes = [number - 1 for number, line in group
                       if line.split("\t", 1)[0].isdigit()]
            self.words += [indexes] if indexes else []
        if not self.words:
            raise _no_sentences(path)
        self.sentences = [[self.lines[i].split("\t")[1] for i in s] for s in self.words]

    def text(self, tags, column):
        lines = list(self.lines)
        for indexes, labels in zip(self.words, tags):
            for index, tag in zip(indexes, labels):
                fields = lines[index].split("\t")
                if column in ("upos", "xpos"):
                    fields[_UPOS if column == "upos" else _XPOS] = tag
                else:
                    misc = [item for item in fields[_MISC].split("|")
                            if item != "_" and item.split("=", 1)[0] != column]
                    fields[_MISC] = "|".join(misc + [f"{column}={tag}"])
                lines[index] = "\t".join(fields)
        return "\n".join(lines).rstrip("\n") + "\n"


class SpansJsonFile:
    """The texts of a character-span JSON list, and the list with predicted spans."""

    def __init__(self, path):
        self.items = _json_items(path)
        for index, item in enumerate(self.items):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str) \
                    or not item["text"]:
                raise pipeline_error(f"{path}[{index}]", "must be an object with a "
                                     "non-empty 'text'", repr(item)[:60])
        if not self.items:
            raise _no_sentences(path)
        self.sentences = [list(item["text"]) for item in self.items]

    def text(self, tags, column):
        del column
        items = []
        for item, labels in zip(self.items, tags):
            spans = [{"span": [start, end], "type": kind, "text": item["text"][start:end]}
                     for kind, start, end in entities(labels)]
            items.append({**item, "entities": spans})
        return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


def read_to_tag(path, format, tokenize):
    """The file to tag, by format (`input_format`).

    Args:
        path: the input file.
        format: one of `INPUT_FORMATS`.
        tokenize: the run's sentence -> tokens (plain text).

    Returns:
        an object with ``sentences`` (token lists) and ``text(tags, column)``.
    """
    format = input_format(path, format)
    if format == "conllu":
        return ConlluFile(path)
    if format == "spans_json":
        return SpansJsonFile(path)
    return ConllFile(path, tokenize if format == "text" else None)
