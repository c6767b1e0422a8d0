"""Tagging data: the splits read from files, the vocabularies, and tf.data batches.

Batches carry the raw tokens (strings): the model looks words and characters up inside
its graph, so an exported model takes tokens as they are.
"""

import collections
import random
from pathlib import Path

from rnn_pipeline.data.readers import expand_globs
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.tagging.readers import read_tagged

PAD, UNK = "<pad>", "<unk>"
SPLITS = ("train", "valid", "test")
_SHOWN_TAGS = 20  # tags listed in an unknown-tag error


def _read_split(key, patterns, data_config, tagging_config, reports):
    """Reads every file of one split; refuses a sentence over ``tagging.max_words``."""
    sentences = []
    for path in expand_globs(patterns, f"data.{key}"):
        read, report = read_tagged(path, data_config.format, tagging_config.column,
                                   tagging_config.scheme)
        for number, sentence in enumerate(read, start=1):
            if len(sentence.tokens) > tagging_config.max_words:
                raise pipeline_error(
                    "tagging.max_words", f"must be at least the words of every sentence: "
                    f"{path} sentence {number} has {len(sentence.tokens)} words (raise "
                    f"tagging.max_words, or split the sentence)", tagging_config.max_words)
        sentences += read
        reports.append(report.as_dict())
    return sentences


def _held_out(count, fraction):
    return max(1, round(count * fraction))


def _split_off(train, data_config, missing):
    """Moves a seeded shuffle's share of ``train`` into each split of ``missing``.

    Returns:
        {split: sentences} for ``missing`` and "train"; every list keeps file order.
    """
    wanted = {key: _held_out(len(train), getattr(data_config, f"{key}_fraction"))
              for key in missing}
    if len(train) - sum(wanted.values()) < 1:
        raise pipeline_error("data.train", f"must hold more sentences than the "
                             f"{' and '.join(missing)} split(s) take from it "
                             f"({sum(wanted.values())})", len(train))
    order = list(range(len(train)))
    random.Random(data_config.seed).shuffle(order)
    out, start = {}, 0
    for key in missing:
        out[key] = [train[i] for i in sorted(order[start:start + wanted[key]])]
        start += wanted[key]
    out["train"] = [train[i] for i in sorted(order[start:])]
    return out


_DATASET_ROLES = {"train": ("train", "all"), "valid": ("dev", "valid"), "test": ("test",)}


def dataset_files(name):
    """{split: [local path]} of a tagging dataset of the catalogue (fetched, or read from
    the mirror); a split it does not have is left out (split off by the seeded shuffle).

    Args:
        name: ``data.corpus``, a dataset of kind "tagging".
    """
    from rnn_pipeline.datasets import DATASETS
    from rnn_pipeline.datasets.fetch import fetch_file

    valid = sorted(n for n in DATASETS.names() if DATASETS.get(n).kind == "tagging")
    if name not in valid:
        raise pipeline_error("data.corpus", f"must be 'files' or a tagging dataset: "
                             f"{', '.join(map(repr, valid))}", name)
    files = DATASETS.get(name).files
    out = {}
    for split, roles in _DATASET_ROLES.items():
        role = next((r for r in roles if r in files), None)
        if role is not None:
            out[split] = [str(fetch_file(files[role]))]
    return out


def load_splits(data_config, tagging_config):
    """Reads the train, valid and test sentences: the files of ``data.train``/``valid``/
    ``test``, or a catalogue dataset's (``data.corpus``) where the pipeline names none.

    Args:
        data_config: a `TaggingDataConfig`.
        tagging_config: a `TaggingSection` (column, scheme, max_words).

    Returns:
        ({"train": [TaggedSentence], "valid": [...], "test": [...]},
        {"files": [ReadReport dicts], "split": how valid and test were made}).
    """
    data_config.check()
    named = {key: getattr(data_config, key) for key in SPLITS if getattr(data_config, key)}
    if data_config.corpus != "files":
        named = {**dataset_files(data_config.corpus), **named}
    reports = []
    splits = {key: _read_split(key, patterns, data_config, tagging_config, reports)
              for key, patterns in named.items()}
    missing = [key for key in ("valid", "test") if key not in splits]
    split = "files"
    if missing:
        splits.update(_split_off(splits["train"], data_config, missing))
        split = f"{' and '.join(missing)}: seeded shuffle, seed {data_config.seed}"
    return splits, {"files": reports, "split": split}


def _escape(entry):
    return entry.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(line):
    out, chars = [], iter(line)
    for char in chars:
        out.append({"n": "\n", "r": "\r"}.get(next(chars, ""), "\\") if char == "\\" else char)
    return "".join(out)


def _write(path, entries):
    Path(path).write_text("".join(f"{_escape(e)}\n" for e in entries), encoding="utf-8")


def _read(path):
    return [_unescape(line) for line in Path(path).read_text(encoding="utf-8").split("\n")[:-1]]


def _ranked(counts, minimum=1):
    """Entries seen at least ``minimum`` times, most frequent first (ties by code point)."""
    return sorted((e for e, c in counts.items() if c >= minimum and e not in (PAD, UNK)),
                  key=lambda e: (-counts[e], e))


class TaggingVocabularies:
    """Words and characters (``<pad>`` = 0, ``<unk>`` = 1) and tags (no unknown).

    Args:
        words: words in id order, starting with ``<pad>``, ``<unk>``.
        characters: characters in id order, starting with ``<pad>``, ``<unk>``.
        tags: tags in id order.
        lowercase: words are looked up in lower case.
    """

    FILES = {"words": "words.txt", "characters": "characters.txt", "tags": "tags.txt"}
    SETTINGS = "lowercase.txt"

    def __init__(self, words, characters, tags, lowercase=False):
        for name, entries in (("words", words), ("characters", characters)):
            if list(entries[:2]) != [PAD, UNK]:
                raise ValueError(f"{name} start with {PAD!r}, {UNK!r}. "
                                 f"Received: {name}[:2]={list(entries[:2])}")
        self.words, self.characters, self.tags = list(words), list(characters), list(tags)
        self.lowercase = lowercase
        self.tag_ids = {tag: i for i, tag in enumerate(self.tags)}

    @classmethod
    def fit(cls, train_sentences, tagging_config):
        """Counts the training split.

        Args:
            train_sentences: the training `TaggedSentence`s.
            tagging_config: a `TaggingSection` (min_word_frequency, lowercase).
        """
        words, characters, tags = (collections.Counter() for _ in range(3))
        for tokens, sentence_tags in train_sentences:
            words.update(t.lower() if tagging_config.lowercase else t for t in tokens)
            characters.update(c for t in tokens for c in t)
            tags.update(sentence_tags)
        return cls([PAD, UNK] + _ranked(words, tagging_config.min_word_frequency),
                   [PAD, UNK] + _ranked(characters), _ranked(tags),
                   lowercase=tagging_config.lowercase)

    def word(self, token):
        """The word as looked up (lower case with ``lowercase``)."""
        return token.lower() if self.lowercase else token

    def check_tags(self, sentences, argument):
        """Raises a `PipelineError` naming the first tag of ``sentences`` that the
        training split never had.

        Args:
            sentences: `TaggedSentence`s of one split.
            argument: the split's config key, e.g. "data.valid".
        """
        for number, (_, tags) in enumerate(sentences, start=1):
            for tag in tags:
                if tag not in self.tag_ids:
                    known = ", ".join(repr(t) for t in sorted(self.tags)[:_SHOWN_TAGS])
                    more = ", ..." if len(self.tags) > _SHOWN_TAGS else ""
                    raise pipeline_error(argument, f"must hold only tags of the training "
                                         f"split ({known}{more}); sentence {number} has "
                                         f"{tag!r}", tag)

    def check_splits(self, splits):
        """`check_tags` on the valid and test splits of a `load_splits` result."""
        for key in ("valid", "test"):
            self.check_tags(splits.get(key, ()), f"data.{key}")

    def encode_tags(self, tags):
        """The tags' ids (``check_tags`` first for an error naming the split)."""
        self.check_tags([(tags, tags)], "tags")
        return [self.tag_ids[tag] for tag in tags]

    def save(self, folder):
        """Writes words.txt, characters.txt, tags.txt (one entry per line, UTF-8; a
        backslash, line feed or carriage return in an entry is escaped as ``\\\\``,
        ``\\n``, ``\\r``) and lowercase.txt."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, file in self.FILES.items():
            _write(folder / file, getattr(self, name))
        (folder / self.SETTINGS).write_text(f"{str(self.lowercase).lower()}\n",
                                            encoding="utf-8")

    @classmethod
    def load(cls, folder):
        """Reads what `save` wrote."""
        folder = Path(folder)
        entries = {name: _read(folder / file) for name, file in cls.FILES.items()}
        lowercase = (folder / cls.SETTINGS).read_text(encoding="utf-8").strip() == "true"
        return cls(**entries, lowercase=lowercase)


def tagging_dataset(sentences, vocabularies, batch_size, shuffle_seed=None):
    """Batches of raw tokens, tag ids and a mask of the real tokens.

    Args:
        sentences: `TaggedSentence`s.
        vocabularies: the fitted `TaggingVocabularies` (tags only: words and characters
            are looked up by the model).
        batch_size: sentences per batch.
        shuffle_seed: shuffle the sentences each epoch with this seed; None keeps order.

    Returns:
        A tf.data.Dataset of ``({"tokens": (batch, words) tf.string, "" padded},
        (batch, words) int32 tag ids, 0 padded, (batch, words) float32 1 on real tokens)``.
    """
    import tensorflow as tf

    if batch_size < 1:
        raise pipeline_error("train.batch_size", "must be at least 1", batch_size)
    lengths = [len(s.tokens) for s in sentences]
    tokens = tf.RaggedTensor.from_row_lengths(
        tf.constant([t for s in sentences for t in s.tokens], tf.string), lengths)
    tags = tf.RaggedTensor.from_row_lengths(tf.constant(
        [i for s in sentences for i in vocabularies.encode_tags(s.tags)], tf.int32), lengths)
    dataset = tf.data.Dataset.from_tensor_slices((tokens, tags))  # elements: (words,)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(sentences), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.map(lambda t, y: ({"tokens": t}, y, tf.ones_like(y, tf.float32)))
    return dataset.padded_batch(
        batch_size, padded_shapes=({"tokens": [None]}, [None], [None]),
        padding_values=({"tokens": ""}, 0, 0.0)).prefetch(tf.data.AUTOTUNE)
