"""Samplers (one registry): pick the next token from logits, in the graph.

Random samplers use stateless random ops seeded by ``(seed, step)``, so the same seed
gives the same text, in Python and in an exported SavedModel alike.
"""

import tensorflow as tf

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry

SAMPLERS = Registry("sampler")


def _draw(logits, seed):
    return tf.cast(tf.random.stateless_categorical(logits, 1, seed)[:, 0], tf.int32)


@SAMPLERS.register("greedy")
class GreedySampler:
    """The most probable token."""

    def __call__(self, logits, seed):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)


@SAMPLERS.register("random")
class RandomSampler:
    """A draw from softmax(logits / temperature).

    Args:
        temperature: > 0; below 1 sharpens, above 1 flattens the distribution.
    """

    def __init__(self, temperature=1.0):
        self.temperature = temperature

    def __call__(self, logits, seed):
        return _draw(logits / self.temperature, seed)


@SAMPLERS.register("top_k")
class TopKSampler(RandomSampler):
    """A draw among the ``k`` most probable tokens only."""

    def __init__(self, k=10, temperature=1.0):
        super().__init__(temperature)
        self.k = k

    def __call__(self, logits, seed):
        k = tf.minimum(tf.cast(self.k, tf.int32), tf.shape(logits)[-1])
        values, indices = tf.math.top_k(logits, k=k)  # (batch, k)
        choice = _draw(values / self.temperature, seed)  # index into the k best
        return tf.gather(indices, choice, batch_dims=1)


@SAMPLERS.register("top_p")
class TopPSampler(RandomSampler):
    """Nucleus sampling: a draw among the fewest tokens whose probability sums to ``p``."""

    def __init__(self, p=0.9, temperature=1.0):
        super().__init__(temperature)
        self.p = p

    def __call__(self, logits, seed):
        logits = logits / self.temperature
        order = tf.argsort(logits, direction="DESCENDING", axis=-1)
        sorted_logits = tf.gather(logits, order, batch_dims=1)
        cumulative = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
        kept = tf.where(cumulative < self.p, sorted_logits, tf.fill(tf.shape(logits), -1e9))
        return tf.gather(order, _draw(kept, seed), batch_dims=1)


@SAMPLERS.register("beam")
class BeamSearch:
    """Beam search over ``num_beams`` hypotheses (see `beam.beam_search`)."""

    def __init__(self, num_beams=4):
        self.num_beams = num_beams


def make_sampler(name, temperature=1.0, k=10, p=0.9, num_beams=4):
    """Builds the sampler ``name`` with the options that apply to it, checked."""
    cls = SAMPLERS.get(name)
    if temperature <= 0:
        raise pipeline_error("temperature", "must be positive", temperature)
    if k < 1:
        raise pipeline_error("top_k", "must be at least 1", k)
    if not 0 < p <= 1:
        raise pipeline_error("top_p", "must be in (0, 1]", p)
    if num_beams < 1:
        raise pipeline_error("num_beams", "must be at least 1", num_beams)
    options = {"random": dict(temperature=temperature), "top_k": dict(k=k, temperature=temperature),
               "top_p": dict(p=p, temperature=temperature), "beam": dict(num_beams=num_beams)}
    return cls(**options.get(name, {}))
