"""Typed pipeline configuration: one dataclass per section of a pipeline file.

Every field that may be ``None`` defaults to ``None``, so a resolved config written
without its ``None`` values (TOML has no null) reads back identical.
"""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.config.training import (TrainConfig, at_least, matching,  # noqa: F401
                                          one_of, seed_field)
from rnn_pipeline.limits import (MAX_BEAMS, MAX_EPOCHS, MAX_GENERATED_TOKENS,
                                 MAX_WORD2VEC_CONTEXT)

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
    train: list[str] = field(default_factory=list)
    valid: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
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


@dataclass
class ForecastModelConfig(RecurrentConfig):
    """The forecaster: recurrent encoder and a forecasting head.

    Args:
        head: "direct", "autoregressive", "seq2seq" or "segment".
        segment_length: steps per segment of the "segment" head.
        highway: add a linear map from each target's lookback to its horizon (LSTNet's
            highway, fitted by ridge least squares on the training windows before training,
            its penalty and its pull toward zero or seasonal naive chosen on the validation
            windows, then kept fixed), so the recurrent head learns the residual.
        residual_test: significance level in (0, 1] at which the recurrent head's
            correction to the highway must beat the highway alone on the validation
            windows (one-sided Diebold-Mariano on scaled MSE) to be kept after training;
            otherwise the forecast's location is the highway's. 1 keeps it always.
        distribution: "none" (a point forecast, trained on MSE), "gaussian" or
            "student_t" (a likelihood per step, as DeepAR), or "quantile" (the
            ``quantiles`` themselves, trained on the pinball loss).
        quantiles: increasing levels in (0, 1): the quantiles forecast, exported and
            written by ``rnn-pipeline forecast`` (lower, median, upper).
    """

    head: str = one_of(choices.HEADS, "direct")
    segment_length: Optional[int] = None
    highway: bool = True
    residual_test: float = 0.1
    distribution: str = one_of(choices.DISTRIBUTIONS, "none")
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])


@dataclass
class TranslationModelConfig(RecurrentConfig):
    """The encoder-decoder translator.

    Args:
        embedding_dim: size of the token vectors of both sides.
        attention: "none", "additive" (Bahdanau) or "dot" (Luong).
        merge: bidirectional encoder: "concat" (+ Dense) or "sum" of the forward and
            backward final states.
    """

    embedding_dim: int = 200
    attention: str = one_of(choices.ATTENTIONS, "additive")
    merge: str = one_of(choices.MERGES, "concat")


@dataclass
class SeriesConfig:
    """Time-series input of a forecasting pipeline.

    Args:
        dataset: a registry series ("etth1", "ettm1", "airline_passengers",
            "melbourne_temperatures"); its file and defaults; or None with ``csv``.
        csv: a CSV file.
        time_column: the timestamp column.
        targets: columns to forecast (a dataset's default when empty).
        covariates: extra input columns; a column of strings is categorical (its
            values, learned from the training rows, are embedded inside the model).
        calendar: known-future features of the timestamps ("minute", "hour",
            "day_of_week", "day_of_month", "day_of_year", "month"), for the history and
            the horizon.
        frequency: pandas offset alias ("h", "15min", "D", "MS"); None infers it.
        fill: missing values and timestamps: "none" (an error), "ffill" or "interpolate".
        split: "fractions" or "ett" (12/4/4 months of 30 days).
        valid_fraction: "fractions": share of rows for validation.
        test_fraction: "fractions": share of rows for test (the last ones).
        lookback: history rows per window.
        horizon: rows to forecast.
        stride: rows between training windows.
        instance_norm: per-window "none", "last" or "mean" subtraction.
        season: season length in rows (seasonal naive, MASE); None = the dataset's.
        max_rows: keep only the first rows (smoke runs).
    """

    dataset: Optional[str] = None
    csv: Optional[str] = None
    time_column: str = "date"
    targets: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list,
                                metadata={"choices": choices.CALENDAR_FEATURES})
    frequency: Optional[str] = None
    fill: str = one_of(choices.FILL_POLICIES, "none")
    split: str = one_of(choices.SERIES_SPLITS, "fractions")
    valid_fraction: float = 0.1
    test_fraction: float = 0.2
    lookback: int = at_least(1, 96)
    horizon: int = at_least(1, 24)
    stride: int = at_least(1, 1)
    instance_norm: str = one_of(choices.INSTANCE_NORMS, "last")
    season: Optional[int] = None
    max_rows: Optional[int] = None


@dataclass
class PairsConfig:
    """Sentence pairs of a translation pipeline.

    Args:
        dataset: a registry pair file ("tatoeba_jpn_eng", "tatoeba_spa_eng"), or None
            with ``file``.
        file: a tab-separated file, ``source<TAB>target[<TAB>anything]`` per line.
        encoding: text encoding of ``file``.
        reverse: translate the second column into the first.
        target_language: ISO code of the target ("ja" scores BLEU on characters);
            None = the dataset's.
        valid_fraction: share of distinct source sentences for validation.
        test_fraction: share of distinct source sentences for test.
        max_source_words: drop pairs with longer sources (whitespace words); None keeps all.
        max_target_chars: drop pairs with longer targets (characters); None keeps all.
        max_pairs: keep only the first pairs of each split after the seeded shuffle
            (smoke runs and budgeted benchmarks).
        seed: shuffle and split seed.
    """

    dataset: Optional[str] = None
    file: Optional[str] = None
    encoding: str = "utf-8"
    reverse: bool = False
    target_language: Optional[str] = None
    valid_fraction: float = 0.05
    test_fraction: float = 0.05
    max_source_words: Optional[int] = None
    max_target_chars: Optional[int] = None
    max_pairs: Optional[int] = None
    seed: int = seed_field()


@dataclass
class DecodeConfig:
    """Translation decoding.

    Args:
        num_beams: 1 is greedy search; more is beam search.
        length_penalty: beam search ranks log-probability / length ** length_penalty.
        max_tokens: longest translation in target tokens.
    """

    num_beams: int = at_least(1, 4, most=MAX_BEAMS)
    length_penalty: float = 0.6
    max_tokens: int = at_least(1, 40, most=MAX_GENERATED_TOKENS)


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

    file: Optional[str] = None
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
    (`rnn_pipeline.config.tasks`).

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
