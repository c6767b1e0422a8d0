"""The registries of the choices a pipeline file names, importable without TensorFlow.

Each registry declares its names and the module that registers their implementations, so
a pipeline file and the command-line options are checked against them when they are read,
before TensorFlow starts (`rnn_pipeline.config.loader`). A test checks that every
declared name is registered by its module, and nothing else.
"""

from rnn_pipeline import tasks
from rnn_pipeline.datasets import DATASETS
from rnn_pipeline.registry import Registry

TASKS = tasks.TASKS  # each declared in its folder, rnn_pipeline/tasks/<task>/
DEFAULT_TASK = "causal_lm"  # a pipeline file without ``task``
CELLS = Registry("model.cell", ("simple_rnn", "lstm", "gru"), module="rnn_pipeline.models.cells")
RECURRENT_INITIALIZERS = Registry("model.recurrent_initializer",
                                  ("orthogonal", "glorot_uniform", "identity"),
                                  module="rnn_pipeline.models.cells")
HEADS = Registry("model.head", ("direct", "autoregressive", "seq2seq", "segment"),
                 module="rnn_pipeline.tasks.forecast.heads")
DISTRIBUTIONS = Registry("model.distribution", ("none", "gaussian", "student_t", "quantile"),
                         module="rnn_pipeline.tasks.forecast.distributions")
LM_HEADS = Registry("model.head", ("full", "adaptive"), module="rnn_pipeline.tasks.causal_lm.model")
ATTENTIONS = Registry("model.attention", ("none", "additive", "dot"),
                      module="rnn_pipeline.tasks.translation.model")
TOKENIZERS = Registry("text.tokenizer", ("whitespace", "character", "unicode_script",
                                         "sentencepiece"), module="rnn_pipeline.tokenizers")
OPTIMIZERS = Registry("train.optimizer", ("sgd", "adam", "adamw"),
                      module="rnn_pipeline.training.optimizers")
SCHEDULES = Registry("train.schedule", ("constant", "step", "plateau", "cosine"),
                     module="rnn_pipeline.training.schedules")
RECURRENCES = Registry("train.recurrence", ("loop", "unrolled", "fused"),
                       module="rnn_pipeline.models.recurrence")
STRATEGIES = Registry("train.strategy", ("default", "mirrored", "multi_worker"),
                      module="rnn_pipeline.distribute.strategies")
SAMPLERS = Registry("sampler", ("greedy", "random", "top_k", "top_p", "beam"),
                    module="rnn_pipeline.generation.samplers")

CORPORA = Registry("data.corpus", ("pydoc_topics", "files", *(
    name for name in DATASETS.names() if DATASETS.get(name).kind == "text")),
                   module="rnn_pipeline.data.corpora")
MISSING_INITS = Registry("embeddings.missing", ("random", "scaled", "zeros"),
                         module="rnn_pipeline.embeddings.pretrained")
WORD2VEC_METHODS = Registry("word2vec.method", ("skipgram", "cbow"),
                            module="rnn_pipeline.embeddings.word2vec")

# Choices that are plain names (no registered implementation): checked the same way.
ACTIVATIONS = Registry("model.activation", (
    "tanh", "relu", "sigmoid", "leaky_relu", "gelu", "swish", "elu", "selu", "softsign",
    "hard_sigmoid", "linear"))
MERGES = Registry("model.merge", ("concat", "sum"))
INSTANCE_NORMS = Registry("series.instance_norm", ("none", "last", "mean"))
FILL_POLICIES = Registry("series.fill", ("none", "ffill", "interpolate"))
SERIES_SPLITS = Registry("series.split", ("fractions", "ett", "per_series"))
SERIES_SCALES = Registry("series.scale", ("global", "window"))
TOO_SHORT_POLICIES = Registry("series.too_short", ("refuse", "drop"))
CALENDAR_FEATURES = Registry("series.calendar", ("minute", "hour", "day_of_week",
                                                 "day_of_month", "day_of_year", "month"))
PRECISIONS = Registry("train.precision", ("float32", "mixed_bfloat16", "auto"))
NORMALIZATIONS = Registry("text.normalization", ("nfkc", "none"))
SENTENCEPIECE_TYPES = Registry("text.sentencepiece_model_type", ("unigram", "bpe"))

ALL = (TASKS, CELLS, RECURRENT_INITIALIZERS, HEADS, DISTRIBUTIONS, LM_HEADS, ATTENTIONS,
       TOKENIZERS, OPTIMIZERS, SCHEDULES, RECURRENCES, STRATEGIES, SAMPLERS, CORPORA,
       MISSING_INITS, WORD2VEC_METHODS, ACTIVATIONS, MERGES, INSTANCE_NORMS, FILL_POLICIES,
       SERIES_SPLITS, SERIES_SCALES, TOO_SHORT_POLICIES, CALENDAR_FEATURES, PRECISIONS,
       NORMALIZATIONS, SENTENCEPIECE_TYPES)
