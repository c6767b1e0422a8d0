"""Corpora: named sources of train/valid/test lines (one registry)."""

import re
from dataclasses import dataclass

from rnn_pipeline.data.readers import check_encoding, expand_globs, read_files
from rnn_pipeline.errors import PipelineError, pipeline_error
from rnn_pipeline.registry import Registry

CORPORA = Registry("data.corpus")

SPLITS = ("train", "valid", "test")


@dataclass
class Corpus:
    """Lines of text per split, before normalization and tokenization."""

    train: list
    valid: list
    test: list

    def split(self, name):
        if name not in SPLITS:
            raise pipeline_error("--split", f"must be one of: {', '.join(SPLITS)}", name)
        return getattr(self, name)


def interleaved_split(units, every):
    """Splits a list deterministically: of every ``every`` units, the second-to-last
    goes to valid, the last to test and the rest to train.

    Interleaving keeps each split on the same topics; a contiguous cut would
    measure topic shift rather than the model.

    Args:
        units: paragraphs or lines.
        every: period of the interleave (>= 3).
    """
    if every < 3:
        raise pipeline_error("data.split_every", "must be at least 3", every)
    train, valid, test = [], [], []
    for i, unit in enumerate(units):
        slot = i % every
        (test if slot == every - 1 else valid if slot == every - 2 else train).append(unit)
    return train, valid, test


def _check_nonempty(corpus, where):
    for name in SPLITS:
        if not any(line.strip() for line in corpus.split(name)):
            raise PipelineError(
                f"{where}: the {name} split is empty or whitespace only. "
                f"Give it text. Received: {name} lines={len(corpus.split(name))}"
            )
    return corpus


@CORPORA.register("pydoc_topics")
def pydoc_topics(data_config):
    """The English text of Python's documentation topics (``pydoc_data.topics``).

    Ships with every CPython, so it needs no download. Paragraphs (blocks
    separated by blank lines) are split by `interleaved_split`; a paragraph's
    lines are joined into one line.
    """
    from pydoc_data.topics import topics

    paragraphs = []
    for key in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[key]):
            text = " ".join(block.split())
            if text:
                paragraphs.append(text)
    corpus = Corpus(*interleaved_split(paragraphs, data_config.split_every))
    return _check_nonempty(corpus, "pydoc_data.topics")


@CORPORA.register("files")
def files(data_config):
    """Text files given by globs; without valid/test files, lines are interleaved from train."""
    check_encoding(data_config.encoding)
    if not data_config.train:
        raise pipeline_error("data.train", "must name at least one file when data.corpus='files'",
                             data_config.train)
    read = {
        name: read_files(expand_globs(patterns, f"data.{name}"), data_config.encoding)
        for name, patterns in (("train", data_config.train), ("valid", data_config.valid),
                               ("test", data_config.test)) if patterns
    }
    if "valid" in read and "test" in read:
        corpus = Corpus(read["train"], read["valid"], read["test"])
    elif "valid" in read or "test" in read:
        raise pipeline_error("data.valid/data.test", "must be given together or not at all",
                             [data_config.valid, data_config.test])
    else:
        corpus = Corpus(*interleaved_split(read["train"], data_config.split_every))
    return _check_nonempty(corpus, ", ".join(data_config.train))


def load_corpus(data_config):
    """Reads the corpus named by ``data_config.corpus``."""
    return CORPORA.get(data_config.corpus)(data_config)
