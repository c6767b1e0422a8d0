"""Adaptive softmax (Grave et al. 2017): an exact, normalised distribution over a large
vocabulary whose rare words cost less to score.

The ids must be ranked by frequency (`Vocabulary.build` ranks them). The head scores the
``cutoffs[0]`` most frequent words plus one entry per tail cluster; tail cluster ``i``
holds ids ``[cutoffs[i], cutoffs[i + 1])`` (the last ends at the vocabulary size) and
scores them from a projection of the hidden state to ``units / div_value ** (i + 1)``
dimensions. For a word ``w`` in cluster ``i``:

    log p(w | h) = log p_head(cluster i | h) + log p_tail_i(w | h)

so the probabilities of all words sum to 1 and perplexity stays exact.
"""

import keras
from keras import ops

from rnn_pipeline.errors import pipeline_error


def check_cutoffs(cutoffs, vocabulary_size):
    """Returns ``cutoffs`` as a list of ints, or raises the error naming the rule."""
    cutoffs = list(cutoffs or [])
    valid = (cutoffs and all(isinstance(c, int) and not isinstance(c, bool) for c in cutoffs)
             and all(a < b for a, b in zip(cutoffs, cutoffs[1:]))
             and 0 < cutoffs[0] and cutoffs[-1] < vocabulary_size)
    if not valid:
        raise pipeline_error(
            "cutoffs", f"must be a non-empty list of strictly increasing integers between 1 "
            f"and vocabulary_size - 1 = {vocabulary_size - 1} (ids below cutoffs[0] are "
            f"the head's words)", cutoffs)
    return cutoffs


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class AdaptiveSoftmax(keras.layers.Layer):
    """Hidden states -> log-probabilities over the vocabulary, by frequency clusters.

    ``call`` returns the full (..., vocabulary) log-probabilities (evaluation,
    generation, serving); `token_nll` scores given targets without building them
    (training).

    Args:
        vocabulary_size: number of token ids.
        cutoffs: strictly increasing ids where the head and each tail cluster end.
        div_value: each tail's projection is ``div_value`` times narrower than the one
            before it (PyTorch's ``AdaptiveLogSoftmaxWithLoss`` uses the same name).
        init_scale: uniform init in [-init_scale, init_scale]; None = Glorot uniform
            kernels and zero biases (Keras' Dense defaults).
        seed: initialisation seed.
    """

    def __init__(self, vocabulary_size, cutoffs, div_value=4.0, init_scale=None, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.cutoffs = check_cutoffs(cutoffs, vocabulary_size)
        if not div_value >= 1.0:
            raise pipeline_error("div_value", "must be at least 1", div_value)
        self.vocabulary_size = vocabulary_size
        self.div_value = float(div_value)
        self.init_scale = init_scale
        self.seed = seed
        bounds = self.cutoffs + [vocabulary_size]
        self.clusters = list(zip(bounds[:-1], bounds[1:]))  # [(start, end)] of every tail

    def _initializer(self, kind, index):
        if self.init_scale is not None:
            return keras.initializers.RandomUniform(-self.init_scale, self.init_scale,
                                                    seed=self.seed + index)
        return (keras.initializers.GlorotUniform(seed=self.seed + index) if kind == "kernel"
                else "zeros")

    def build(self, input_shape):
        units = input_shape[-1]
        head_size = self.cutoffs[0] + len(self.clusters)
        self.head_kernel = self.add_weight(shape=(units, head_size), name="head_kernel",
                                           initializer=self._initializer("kernel", 0))
        self.head_bias = self.add_weight(shape=(head_size,), name="head_bias",
                                         initializer=self._initializer("bias", 1))
        self.tail_weights = []
        for i, (start, end) in enumerate(self.clusters):
            width = self.tail_width(units, i)
            self.tail_weights.append((
                self.add_weight(shape=(units, width), name=f"tail_{i}_projection",
                                initializer=self._initializer("kernel", 10 * i + 2)),
                self.add_weight(shape=(width, end - start), name=f"tail_{i}_kernel",
                                initializer=self._initializer("kernel", 10 * i + 3)),
                self.add_weight(shape=(end - start,), name=f"tail_{i}_bias",
                                initializer=self._initializer("bias", 10 * i + 4))))

    def tail_width(self, units, index):
        """Projection width of tail ``index``: ``units / div_value ** (index + 1)``, >= 1."""
        return max(1, round(units / self.div_value ** (index + 1)))

    def _head_log_probs(self, hidden):
        logits = ops.matmul(hidden, self.head_kernel) + self.head_bias
        return ops.log_softmax(logits, axis=-1)  # (..., cutoffs[0] + tails)

    def _tail_logits(self, hidden, index):
        projection, kernel, bias = self.tail_weights[index]
        return ops.matmul(ops.matmul(hidden, projection), kernel) + bias  # (..., end - start)

    def call(self, hidden):
        """Args:
            hidden: (..., units).

        Returns:
            (..., vocabulary_size) log-probabilities (each row's exp sums to 1).
        """
        head = self._head_log_probs(hidden)
        first = self.cutoffs[0]
        parts = [head[..., :first]]
        for i in range(len(self.clusters)):
            cluster = head[..., first + i:first + i + 1]  # (..., 1)
            parts.append(cluster + ops.log_softmax(self._tail_logits(hidden, i), axis=-1))
        return ops.concatenate(parts, axis=-1)

    def token_nll(self, hidden, targets):
        """Negative log-likelihood of each target, the same numbers as ``call`` gives.

        Every tail is scored for every position (static shapes, so XLA compiles it), but
        from its narrow projection, and the full log-probabilities are never built.

        Args:
            hidden: (..., units).
            targets: int (...) token ids.

        Returns:
            (...) float NLL in nats.
        """
        targets = ops.cast(targets, "int32")
        head = self._head_log_probs(hidden)
        first = self.cutoffs[0]
        cluster = sum(ops.cast(targets >= c, "int32") for c in self.cutoffs)  # 0 = head
        head_index = ops.where(cluster == 0, targets, first + cluster - 1)
        log_prob = ops.take_along_axis(head, head_index[..., None], axis=-1)[..., 0]
        for i, (start, end) in enumerate(self.clusters):
            logits = self._tail_logits(hidden, i)
            inside = ops.clip(targets - start, 0, end - start - 1)
            picked = ops.take_along_axis(logits, inside[..., None], axis=-1)[..., 0]
            tail = picked - ops.logsumexp(logits, axis=-1)
            log_prob = log_prob + ops.where(cluster == i + 1, tail, ops.zeros_like(tail))
        return -log_prob

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.vocabulary_size)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "cutoffs": self.cutoffs, "div_value": self.div_value,
                "init_scale": self.init_scale, "seed": self.seed}
