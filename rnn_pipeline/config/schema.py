"""Typed pipeline configuration: the sections that several tasks share, one dataclass
per section of a pipeline file; a task's own sections are in its folder
(``rnn_pipeline/tasks/<task>/config.py``).

Every field that may be ``None`` defaults to ``None``, so a resolved config written
without its ``None`` values (TOML has no null) reads back identical.
"""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.config.training import (TrainConfig, at_least, matching,  # noqa: F401
                                          one_of, path_key, seed_field)
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.limits import MAX_EPOCHS, MAX_WORD2VEC_CONTEXT

# A run name becomes a folder name under runs/ and a TF Serving model name.
# 64 characters of 3 UTF-8 bytes each, with the timestamp, stay within a folder name's 255.
RUN_NAME = r"[^\W_][\w.-]{0,63}"


@dataclass
class DataConfig:
    """Where the text comes from.

    Args:
        corpus: "pydoc_topics" (built in, no download), "files", or a registry dataset
            ("ptb", "wikitext2", "tinyshakespeare", "aozora").
        train: file globs of the training split (corpus "files").
        valid: file globs of the validation split; empty = interleaved from train.
        test: file globs of the test split; empty = interleaved from train.
        encoding: text encoding of the files, e.g. "utf-8" or "shift_jis".
        split_every: interleaved split: of every ``split_every`` paragraphs (lines for
            files), the second-to-last goes to valid and the last to test.
        max_lines: keep only the first ``max_lines`` lines of each split (smoke runs);
            None keeps all.
    """

    corpus: str = one_of(choices.CORPORA, "pydoc_topics")
    train: list[str] = path_key(many=True)
    valid: list[str] = path_key(many=True)
    test: list[str] = path_key(many=True)
    encoding: str = "utf-8"
    split_every: int = 10
    max_lines: Optional[int] = None


@dataclass
class TextConfig:
    """Normalization, tokenizer and vocabulary.

    Args:
        normalization: "nfkc" or "none".
        lowercase: lower-case after normalization.
        tokenizer: "whitespace", "character", "unicode_script" or "sentencepiece".
        sentencepiece_vocab_size: pieces in the trained sentencepiece model.
        sentencepiece_model_type: "unigram" or "bpe".
        max_size: largest vocabulary, specials included; ``None`` = no limit.
        min_frequency: rarer training tokens map to ``<unk>``.
    """

    normalization: str = one_of(choices.NORMALIZATIONS, "nfkc")
    lowercase: bool = False
    tokenizer: str = one_of(choices.TOKENIZERS, "whitespace")
    sentencepiece_vocab_size: int = 4000
    sentencepiece_model_type: str = one_of(choices.SENTENCEPIECE_TYPES, "unigram")
    max_size: Optional[int] = None
    min_frequency: int = 1


@dataclass
class RecurrentConfig:
    """The recurrent stack that every task's model is built on.

    Args:
        cell: "simple_rnn", "lstm" or "gru".
        units: hidden units of each recurrent layer (per direction).
        num_layers: stacked recurrent layers.
        dropout: dropout between recurrent layers and before the output.
        bidirectional: read the sequence in both directions (refused for a causal
            language model).
    """

    cell: str = one_of(choices.CELLS, "lstm")
    units: int = 200
    num_layers: int = 2
    dropout: float = 0.0
    bidirectional: bool = False


@dataclass
class ModelConfig(RecurrentConfig):
    """The language model: embedding, recurrent stack, softmax over the vocabulary.

    Args:
        activation: activation of ``simple_rnn`` (tanh, relu, sigmoid, ...).
        embedding_dim: size of the word vectors.
        embedding_dropout: dropout on the word vectors.
        tie_weights: share the embedding matrix with the output projection; ``None``:
            share it where the head is the full softmax (`tied`).
        init_scale: uniform initialisation in [-init_scale, init_scale]; ``None`` = Keras defaults.
        recurrent_initializer: W_h's initialiser: "orthogonal", "glorot_uniform" or
            "identity" (IRNN, with ``activation = "relu"``); ``None`` = Keras' (orthogonal).
        head: the output layer: "full" (one softmax over the vocabulary) or "adaptive"
            (adaptive softmax, Grave et al. 2017: exact, faster for large vocabularies).
        cutoffs: "adaptive": increasing word ranks where the head and each tail cluster
            end, e.g. [2000, 10000] (ids are ranked by training frequency).
        div_value: "adaptive": each tail cluster's projection is this many times
            narrower than the one before.
    """

    activation: str = one_of(choices.ACTIVATIONS, "tanh")
    embedding_dim: int = 200
    embedding_dropout: float = 0.0
    tie_weights: bool = False
    init_scale: Optional[float] = None
    recurrent_initializer: Optional[str] = one_of(choices.RECURRENT_INITIALIZERS, None)
    head: str = one_of(choices.LM_HEADS, "full")
    cutoffs: list[int] = field(default_factory=list)
    div_value: float = 4.0

    def tied(self):
        """Whether the output projection is the embedding matrix: ``tie_weights``, or where
        it is None, whether the head is the full softmax."""
        return self.head == "full" if self.tie_weights is None else self.tie_weights

    def __post_init__(self):
        sizes = (self.embedding_dim, self.units)  # a size below 1: the builder names it
        if self.tied() and sizes[0] != sizes[1] and min(sizes) >= 1:
            received = "unset (tied to the full softmax)" if self.tie_weights is None \
                else self.tie_weights
            raise pipeline_error(
                "model.tie_weights",
                f"needs embedding_dim == units, but embedding_dim={self.embedding_dim} and "
                f"units={self.units}: set model.embedding_dim = {self.units} (the units), or "
                f"model.tie_weights = false (an output layer of its own)", received)


@dataclass
class EmbeddingsConfig:
    """Pretrained word vectors for the language model's embedding.

    Args:
        file: a vectors file (GloVe text, word2vec text or binary, optionally .gz);
            None keeps the random initialisation.
        format: "auto" (``.bin`` = binary, a ``count dim`` first line = word2vec text,
            else GloVe), "glove", "word2vec_text" or "word2vec_binary".
        trainable: train the embedding (after ``frozen_epochs``); false keeps it fixed.
            A tied embedding is also the output layer, so freezing it freezes both.
        frozen_epochs: with ``trainable``, keep it fixed for this many first epochs.
        missing: rows of words without a vector: "random" (the model's initialisation),
            "scaled" (normal with the vectors' mean and std) or "zeros".
        lowercase: a word without a vector takes the vector of its lower-case form.
    """

    file: Optional[str] = path_key()
    format: str = "auto"
    trainable: bool = True
    frozen_epochs: int = 0
    missing: str = one_of(choices.MISSING_INITS, "random")
    lowercase: bool = False


@dataclass
class Word2VecConfig:
    """``rnn-pipeline embed``: Word2Vec (gensim) on the training split, with negative sampling.

    The vector size is ``model.embedding_dim``, so the output feeds ``embeddings.file``.

    Args:
        method: "skipgram" or "cbow".
        window: context words on each side.
        negative: negative samples per positive one.
        epochs: passes over the training split.
        min_count: rarer words get no vector.
        sample: down-sampling threshold of frequent words.
        seed: initialisation seed (runs on several cores are not bit-reproducible).
    """

    method: str = one_of(choices.WORD2VEC_METHODS, "skipgram")
    window: int = at_least(1, 5, most=MAX_WORD2VEC_CONTEXT)
    negative: int = at_least(1, 5, most=MAX_WORD2VEC_CONTEXT)
    epochs: int = at_least(1, 5, most=MAX_EPOCHS)
    min_count: int = at_least(1, 1, most=2**31 - 1)
    sample: float = 1e-3
    seed: int = seed_field()


@dataclass
class PipelineConfig:
    """What every pipeline file has; each task adds its own sections
    (``rnn_pipeline/tasks/<task>/config.py``).

    Args:
        name: run name prefix: 1-64 letters (any script), digits, '_', '.' or '-',
            starting with a letter or digit (a folder name in runs/, never a path).
        task: the task (`rnn_pipeline.choices.TASKS`), which decides the other sections.
    """

    name: str = matching(RUN_NAME, "must be 1-64 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit (it names a folder in runs/)",
                         "default")
    task: str = one_of(choices.TASKS, choices.DEFAULT_TASK)
    model: RecurrentConfig = field(default_factory=RecurrentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
