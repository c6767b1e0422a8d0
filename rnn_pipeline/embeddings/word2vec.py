"""Training Word2Vec (gensim) on a pipeline's training split, with its tokenizer."""

import logging
import os
import time
from pathlib import Path

import numpy as np

from rnn_pipeline import choices
from rnn_pipeline.errors import PipelineError, pipeline_error

METHODS = choices.WORD2VEC_METHODS
METHODS.register("skipgram")(1)
METHODS.register("cbow")(0)


def stream_sentences(stream, itos, eos_id):
    """Token-id stream (``<eos>`` after every line) -> one list of words per line, each
    ending with ``<eos>``, the token the language model also sees."""
    stream = np.asarray(stream)
    ends = np.flatnonzero(stream == eos_id)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [[itos[i] for i in stream[a:b + 1]] for a, b in zip(starts, ends)]


def check_word2vec(config, dim):
    """Raises a `PipelineError` for settings gensim would reject or misread, or when gensim
    (the optional ``word2vec`` extra) is not installed."""
    try:
        import gensim  # noqa: F401
    except ImportError:
        raise PipelineError("rnn-pipeline embed needs gensim, an optional dependency: "
                            "pip install 'rnn-pipeline[word2vec]'. Received: gensim not "
                            "installed") from None
    METHODS.get(config.method)
    for key, value, low in (("window", config.window, 1), ("negative", config.negative, 1),
                            ("epochs", config.epochs, 1), ("min_count", config.min_count, 1),
                            ("model.embedding_dim", dim, 1)):
        if value < low:
            name = key if "." in key else f"word2vec.{key}"
            raise pipeline_error(name, f"must be at least {low}", value)
    if config.sample < 0:
        raise pipeline_error("word2vec.sample", "must be at least 0", config.sample)


class _ProgressHandler(logging.Handler):
    """Forwards gensim's "PROGRESS: at x% examples" lines, at most one every ``every`` s."""

    def __init__(self, log, every=5.0):
        super().__init__(logging.INFO)
        self.log, self.every, self._last = log, every, 0.0

    def emit(self, record):
        message = record.getMessage()
        if "% examples" in message and time.perf_counter() - self._last >= self.every:
            self._last = time.perf_counter()
            self.log("  word2vec " + message.split("PROGRESS: ")[-1])


def train_word2vec(sentences, dim, config, log, workers=None):
    """Trains Word2Vec with negative sampling on every core.

    Args:
        sentences: lists of words.
        dim: vector size.
        config: a `Word2VecConfig`.
        log: callable for progress lines.
        workers: threads; default: every core.

    Returns:
        gensim ``KeyedVectors``.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    check_word2vec(config, dim)
    workers = workers or os.cpu_count() or 1

    class EpochLines(CallbackAny2Vec):
        def __init__(self):
            self.epoch, self.start = 0, time.perf_counter()

        def on_epoch_end(self, model):
            self.epoch += 1
            log(f"word2vec epoch {self.epoch}/{config.epochs} done, "
                f"{time.perf_counter() - self.start:.1f}s elapsed")

    gensim_log = logging.getLogger("gensim.models.word2vec")
    handler, level = _ProgressHandler(log), gensim_log.level
    gensim_log.addHandler(handler)
    gensim_log.setLevel(logging.INFO)
    try:
        model = Word2Vec(sentences, vector_size=dim, sg=METHODS.get(config.method),
                         window=config.window, negative=config.negative, hs=0,
                         min_count=config.min_count, sample=config.sample,
                         epochs=config.epochs, seed=config.seed, workers=workers,
                         callbacks=[EpochLines()])
    finally:
        gensim_log.removeHandler(handler)
        gensim_log.setLevel(level)
    return model.wv


def save_vectors(keyed_vectors, out):
    """Writes word2vec text format to ``out`` through a temporary file (never half-written)."""
    out = Path(out)
    staging = out.with_name(out.name + ".tmp")
    keyed_vectors.save_word2vec_format(str(staging), binary=False)
    os.replace(staging, out)
    return out
