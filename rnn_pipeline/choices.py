"""The registries of the choices a pipeline file names, importable without TensorFlow.

Each registry declares its names and the module that registers their implementations, so
a pipeline file and the command-line options are checked against them when they are read,
before TensorFlow starts (`rnn_pipeline.config.loader`). A test checks that every
declared name is registered by its module, and nothing else.
"""

from rnn_pipeline.registry import Registry

TASKS = Registry("task", ("causal_lm", "forecast", "translation"),
                 module="rnn_pipeline.workflows")
DEFAULT_TASK = TASKS.declared[0]  # a pipeline file without ``task``
CELLS = Registry("model.cell", ("simple_rnn", "lstm", "gru"), module="rnn_pipeline.models.cells")
RECURRENT_INITIALIZERS = Registry("model.recurrent_initializer",
                                  ("orthogonal", "glorot_uniform", "identity"),
                                  module="rnn_pipeline.models.cells")
HEADS = Registry("model.head", ("direct", "autoregressive", "seq2seq", "segment"),
                 module="rnn_pipeline.models.forecaster")
ATTENTIONS = Registry("model.attention", ("none", "additive", "dot"),
                      module="rnn_pipeline.models.seq2seq")
TOKENIZERS = Registry("text.tokenizer", ("whitespace", "character", "unicode_script",
                                         "sentencepiece"), module="rnn_pipeline.tokenizers")
OPTIMIZERS = Registry("train.optimizer", ("sgd", "adam", "adamw"),
                      module="rnn_pipeline.training.optimizers")
SCHEDULES = Registry("train.schedule", ("constant", "step", "plateau", "cosine"),
                     module="rnn_pipeline.training.schedules")
SAMPLERS = Registry("sampler", ("greedy", "random", "top_k", "top_p", "beam"),
                    module="rnn_pipeline.generation.samplers")

ALL = (TASKS, CELLS, RECURRENT_INITIALIZERS, HEADS, ATTENTIONS, TOKENIZERS, OPTIMIZERS,
       SCHEDULES, SAMPLERS)
