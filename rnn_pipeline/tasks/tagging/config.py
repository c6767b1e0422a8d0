"""The sections of a tagging pipeline: ``[data]``, ``[tagging]``, ``[model]``, ``[train]``
and ``[embeddings]`` (no TensorFlow).

Key-by-key checks (types, ranges, choices) are the loader's (`rnn_pipeline.config.loader`);
the open ranges of the split fractions are checked when a section is built, and the rules
between keys (``data.train`` with ``corpus = "files"``) by `TaggingDataConfig.check`.
"""

from dataclasses import dataclass, field

from rnn_pipeline.config.schema import EmbeddingsConfig, PipelineConfig, RecurrentConfig
from rnn_pipeline.config.training import TrainConfig, at_least, one_of, path_key, seed_field
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry
from rnn_pipeline.tasks.tagging.readers import FORMATS
from rnn_pipeline.tasks.tagging.schemes import SCHEMES

# Choices that are plain names (no registered implementation), as in `rnn_pipeline.choices`.
TAGGING_FORMATS = Registry("data.format", FORMATS)
TAGGING_SCHEMES = Registry("tagging.scheme", SCHEMES)
TAGGING_HEADS = Registry("model.head", ("softmax", "crf"))


def _check_fraction(key, value):
    if not 0.0 < value < 0.5:
        raise pipeline_error(key, "must be in (0, 0.5): a share of the sentences held out "
                             "when the split has no files of its own", value)


@dataclass
class TaggingDataConfig:
    """Where the tagged sentences come from.

    Args:
        corpus: "files" (the globs below), or a dataset name.
        train: file globs of the training split (required with corpus "files").
        valid: file globs of the validation split; empty = ``valid_fraction`` of the
            training sentences, by a seeded shuffle.
        test: file globs of the test split; empty = ``test_fraction`` of the training
            sentences, by the same shuffle.
        format: "auto" (``.conllu`` is CoNLL-U, ``.json`` spans JSON, else CoNLL),
            "conll", "conllu" or "spans_json".
        valid_fraction: share of the training sentences for validation, in (0, 0.5).
        test_fraction: share of the training sentences for test, in (0, 0.5).
        seed: seed of the shuffle that splits valid and test off the training sentences.
    """

    corpus: str = "files"
    train: list[str] = path_key(many=True)
    valid: list[str] = path_key(many=True)
    test: list[str] = path_key(many=True)
    format: str = one_of(TAGGING_FORMATS, "auto")
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = seed_field()

    def __post_init__(self):
        if not isinstance(self.corpus, str) or not self.corpus.strip():
            raise pipeline_error("data.corpus", "must be 'files' or a dataset name",
                                 self.corpus)
        _check_fraction("data.valid_fraction", self.valid_fraction)
        _check_fraction("data.test_fraction", self.test_fraction)

    def check(self):
        """Raises a `PipelineError` unless the keys agree with each other (the defaults,
        without ``train``, do not: a pipeline must name its files)."""
        if self.corpus == "files" and not self.train:
            raise pipeline_error("data.train", "must name the training files (paths or "
                                 "globs) when data.corpus is 'files'", self.train)
        return self


@dataclass
class TaggingSection:
    """The ``[tagging]`` section: which tags, in which scheme, and the word vocabulary.

    Args:
        column: the CoNLL-U column of the tags: "upos", "xpos" or a MISC key (e.g. "NE").
        scheme: the chunk scheme of the files' tags ("iob2", "iob1", "io", "bioes"),
            converted to IOB2 when read; POS columns (upos, xpos) are read as they are.
        constrain_bio: decode only tag sequences that IOB2 allows (no ``I-X`` after
            ``O``).
        max_words: longest sentence, in words; a longer one is refused.
        min_word_frequency: rarer training words map to ``<unk>``.
        lowercase: look words up in lower case (characters keep their case).
    """

    column: str = "upos"
    scheme: str = one_of(TAGGING_SCHEMES, "iob2")
    constrain_bio: bool = True
    max_words: int = at_least(1, 200)
    min_word_frequency: int = at_least(1, 1)
    lowercase: bool = False


@dataclass
class TaggingModelConfig(RecurrentConfig):
    """The tagger: word (and character) features, a bidirectional recurrent stack and a
    softmax or CRF head.

    Args:
        embedding_dim: size of the word vectors.
        char_embedding_dim: size of the character vectors; 0 turns character features off.
        char_units: units of the character recurrent layer (per direction).
        word_dropout: in training, a word is read as ``<unk>`` with this probability (so
            that unseen words get a trained vector), in [0, 1).
        head: "softmax" (one tag per token) or "crf" (a linear-chain CRF).
    """

    dropout: float = 0.5
    bidirectional: bool = True
    embedding_dim: int = at_least(1, 100)
    char_embedding_dim: int = at_least(0, 25)
    char_units: int = at_least(1, 25)
    word_dropout: float = 0.25
    head: str = one_of(TAGGING_HEADS, "softmax")


@dataclass
class TaggingConfig(PipelineConfig):
    """A sequence tagger (POS, NER): ``[data]``, ``[tagging]``, ``[model]``, ``[train]``
    and ``[embeddings]``."""

    task: str = "tagging"
    data: TaggingDataConfig = field(default_factory=TaggingDataConfig)
    tagging: TaggingSection = field(default_factory=TaggingSection)
    model: TaggingModelConfig = field(default_factory=TaggingModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
