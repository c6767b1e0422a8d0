"""Corpora: named sources of train/valid/test lines (one registry)."""

import re
from dataclasses import dataclass

from rnn_pipeline import choices
from rnn_pipeline.data.readers import check_encoding, expand_globs, read_files, read_lines
from rnn_pipeline.errors import PipelineError, pipeline_error

CORPORA = choices.CORPORA

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


def contiguous_split(units, fractions=(0.9, 0.05, 0.05)):
    """First 90% of the units to train, the next 5% to valid, the rest to test (nanoGPT)."""
    first = int(len(units) * fractions[0])
    second = first + int(len(units) * fractions[1])
    return units[:first], units[first:second], units[second:]


def strip_aozora(lines):
    """Aozora Bunko text -> plain body text: drops the header (up to the second ``-----``
    line) and the footer (from ``底本：``), gaiji notes ``※［＃…］``, editor notes
    ``［＃…］``, ruby ``《…》`` and the ruby start mark ``｜``."""
    rules = [i for i, line in enumerate(lines) if line.startswith("-----")]
    start = rules[1] + 1 if len(rules) >= 2 else 0
    end = next((i for i, line in enumerate(lines) if line.startswith("底本：")), len(lines))
    pattern = re.compile(r"※［＃[^］]*］|［＃[^］]*］|《[^》]*》|｜")
    return [pattern.sub("", line) for line in lines[start:end]]


CLEANERS = {"aozora": strip_aozora}


def dataset_corpus(spec, data_config):
    """Lines of a registry dataset (fetched from cache, mirror or URL), split as the
    dataset prescribes."""
    from rnn_pipeline.datasets import fetch_file

    lines = {}
    for role, file in spec.files.items():
        text = read_lines(fetch_file(file), spec.encoding)
        lines[role] = CLEANERS[spec.cleaner](text) if spec.cleaner else text
    if spec.split == "files":
        corpus = Corpus(lines["train"], lines["valid"], lines["test"])
    else:
        units = [line for role in spec.files for line in lines[role]]
        split = contiguous_split if spec.split == "contiguous" else \
            (lambda u: interleaved_split(u, data_config.split_every))
        corpus = Corpus(*split(units))
    return _check_nonempty(corpus, spec.name)


def _register_datasets():
    from rnn_pipeline.datasets import DATASETS

    for name in DATASETS.names():
        spec = DATASETS.get(name)
        if spec.kind == "text":
            CORPORA.register(name)(lambda data_config, spec=spec: dataset_corpus(spec, data_config))


_register_datasets()


def load_corpus(data_config):
    """Reads the corpus named by ``data_config.corpus``, limited to ``data.max_lines``."""
    corpus = CORPORA.get(data_config.corpus)(data_config)
    if data_config.max_lines is not None:
        if data_config.max_lines < 1:
            raise pipeline_error("data.max_lines", "must be at least 1", data_config.max_lines)
        corpus = Corpus(*(corpus.split(name)[:data_config.max_lines] for name in SPLITS))
    return corpus
