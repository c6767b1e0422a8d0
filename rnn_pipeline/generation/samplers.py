"""Samplers (one registry): pick the next token from logits, in the graph.

Random samplers use stateless random ops. Every row has its own seed pair, ``(seed, step)``,
so a row's text depends on its prompt and seed only, not on the other rows of the batch:
the same seed gives the same text in Python and in an exported SavedModel alike.
"""

import math

import tensorflow as tf

from rnn_pipeline.choices import SAMPLERS
from rnn_pipeline.errors import pipeline_error


_MASKED = -1e9
_SMALLEST_NORMAL = 1.1754944e-38  # float32


def draw(logits, seeds):
    """One token per row from softmax(logits).

    Args:
        logits: (batch, vocab).
        seeds: int32 (batch, 2); row i uses ``seeds[i]`` only.

    Returns:
        int32 (batch,).
    """
    def one_row(row):
        row_logits, row_seed = row
        return tf.random.stateless_categorical(row_logits[None, :], 1, row_seed)[0, 0]

    tokens = tf.map_fn(one_row, (logits, seeds), fn_output_signature=tf.int64)
    return tf.cast(tokens, tf.int32)


def with_temperature(logits, temperature):
    """``logits / temperature``, each row shifted first so that its largest logit is 0: as
    the temperature shrinks, the other logits go to -inf and sampling becomes greedy,
    instead of overflowing to inf - inf = NaN.

    Args:
        logits: (batch, vocab).
        temperature: a positive scalar, or (batch, 1).
    """
    shifted = logits - tf.reduce_max(logits, axis=-1, keepdims=True)  # (batch, vocab), max 0
    # A subnormal temperature reads as 0 on CPUs that flush denormals (0 / 0 = NaN).
    return shifted / tf.maximum(tf.cast(temperature, logits.dtype), _SMALLEST_NORMAL)


def keep_top_k(logits, k):
    """Masks all but the ``k`` largest logits of each row.

    Args:
        logits: (batch, vocab).
        k: int32 scalar or (batch,); ``k <= 0`` keeps the whole row.
    """
    k = tf.broadcast_to(tf.cast(k, tf.int32), tf.shape(logits)[:1])  # (batch,)
    limited = k > 0
    k = tf.where(limited, tf.minimum(k, tf.shape(logits)[-1]), 1)
    values, _ = tf.math.top_k(logits, k=tf.reduce_max(k))  # (batch, max k), descending
    kth = tf.where(limited, tf.gather(values, k - 1, batch_dims=1), -float("inf"))  # (batch,)
    return tf.where(logits >= kth[:, None], logits, _MASKED)


@SAMPLERS.register("greedy")
class GreedySampler:
    """The most probable token."""

    def __call__(self, logits, seeds):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)


@SAMPLERS.register("random")
class RandomSampler:
    """A draw from softmax(logits / temperature).

    Args:
        temperature: > 0; below 1 sharpens, above 1 flattens the distribution.
    """

    def __init__(self, temperature=1.0):
        self.temperature = temperature

    def __call__(self, logits, seeds):
        return draw(with_temperature(logits, self.temperature), seeds)


@SAMPLERS.register("top_k")
class TopKSampler(RandomSampler):
    """A draw among the ``k`` most probable tokens only."""

    def __init__(self, k=10, temperature=1.0):
        super().__init__(temperature)
        self.k = k

    def __call__(self, logits, seeds):
        return draw(keep_top_k(with_temperature(logits, self.temperature), self.k), seeds)


@SAMPLERS.register("top_p")
class TopPSampler(RandomSampler):
    """Nucleus sampling: a draw among the fewest tokens whose probability sums to ``p``."""

    def __init__(self, p=0.9, temperature=1.0):
        super().__init__(temperature)
        self.p = p

    def __call__(self, logits, seeds):
        logits = with_temperature(logits, self.temperature)
        order = tf.argsort(logits, direction="DESCENDING", axis=-1)
        sorted_logits = tf.gather(logits, order, batch_dims=1)
        cumulative = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
        kept = tf.where(cumulative < self.p, sorted_logits, _MASKED)
        return tf.gather(order, draw(kept, seeds), batch_dims=1)


class ServingSampler:
    """The exported generation signature's sampler, with options per row: greedy where
    ``temperature <= 0``, else `TopKSampler` (``top_k > 0``) or `RandomSampler`
    (``top_k <= 0``); a row gets exactly the tokens those samplers give it.

    `generate_ids` asks `any_sampling` once per request and loops an all-greedy batch
    with `GreedySampler` (no draws, no condition per token).

    Args:
        temperature: float32 (batch,).
        top_k: int32 (batch,).
    """

    def __init__(self, temperature, top_k):
        self.temperature = temperature
        self.top_k = top_k

    def any_sampling(self):
        """bool scalar: does any row sample (``temperature > 0``)?"""
        return tf.reduce_any(self.temperature > 0)

    def __call__(self, logits, seeds):
        sampling = self.temperature > 0  # (batch,)
        greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
        temperature = tf.where(sampling, self.temperature, 1.0)[:, None]
        drawn = draw(keep_top_k(with_temperature(logits, temperature), self.top_k), seeds)
        return tf.where(sampling, drawn, greedy)


@SAMPLERS.register("beam")
class BeamSearch:
    """Beam search over ``num_beams`` hypotheses (see `beam.beam_search`)."""

    def __init__(self, num_beams=4):
        self.num_beams = num_beams


def make_sampler(name, temperature=1.0, k=10, p=0.9, num_beams=4):
    """Builds the sampler ``name`` with the options that apply to it, checked."""
    cls = SAMPLERS.get(name)
    if not (math.isfinite(temperature) and temperature > 0):
        raise pipeline_error("temperature", "must be a positive finite number", temperature)
    if k < 1:
        raise pipeline_error("top_k", "must be at least 1", k)
    if not 0 < p <= 1:
        raise pipeline_error("top_p", "must be in (0, 1]", p)
    if num_beams < 1:
        raise pipeline_error("num_beams", "must be at least 1", num_beams)
    options = {"random": dict(temperature=temperature), "top_k": dict(k=k, temperature=temperature),
               "top_p": dict(p=p, temperature=temperature), "beam": dict(num_beams=num_beams)}
    return cls(**options.get(name, {}))
