"""A tagged sentence (one tag per token) and the report of what reading a file skipped."""

import dataclasses

from rnn_pipeline.errors import pipeline_error


@dataclasses.dataclass(frozen=True, slots=True)
class TaggedSentence:
    """Tokens and their tags, as many of one as of the other.

    Unpacks like a pair: ``tokens, tags = sentence``.

    Args:
        tokens: the words (or characters) of the sentence.
        tags: one tag per token.
    """

    tokens: list
    tags: list

    def __post_init__(self):
        if len(self.tokens) != len(self.tags):
            raise pipeline_error("tags", f"must have one tag per token ({len(self.tokens)} "
                                 f"tokens)", len(self.tags))

    def __iter__(self):
        return iter((self.tokens, self.tags))


@dataclasses.dataclass
class ReadReport:
    """What a reader found and what it skipped or changed, for logs and run records.

    Args:
        path: the file read.
        sentences: sentences returned.
        tokens: tokens returned (characters for a spans file).
        multiword_ranges_skipped: CoNLL-U multi-word token lines (``3-4``) skipped.
        empty_nodes_skipped: CoNLL-U empty nodes (``5.1``) skipped.
        documents_skipped: ``-DOCSTART-`` lines skipped in a CoNLL file.
        spans: entity spans read from a spans file and tagged.
        spans_skipped: spans out of range, empty, or overlapping an earlier span.
        tags_converted: tags changed by the conversion to IOB2.
        inconsistent: IOB2 tags that break the scheme (an ``I-X`` that does not continue
            an ``X`` chunk), kept as read; conlleval's rules score them as chunk starts.
    """

    path: str = ""
    sentences: int = 0
    tokens: int = 0
    multiword_ranges_skipped: int = 0
    empty_nodes_skipped: int = 0
    documents_skipped: int = 0
    spans: int = 0
    spans_skipped: int = 0
    tags_converted: int = 0
    inconsistent: int = 0

    def as_dict(self):
        """The report as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)
