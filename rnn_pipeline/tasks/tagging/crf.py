"""A linear-chain CRF head for sequence tagging, in the TensorFlow graph.

The score of a tag path ``y`` over a row of ``n`` real tokens is

    score(y) = start[y_0] + sum_t potentials[t, y_t] + sum_t transitions[y_{t-1}, y_t]
               + end[y_{n-1}]

and ``log p(y | potentials) = score(y) - log Z`` with ``log Z`` from the forward
algorithm. Decoding is Viterbi. Both loop over time with ``tf.foldl`` / ``tf.scan``, so
batch and time may be unknown (None) and the layer exports in a SavedModel.

Masks are bool (batch, time), true for real tokens, and must be left-aligned (a prefix
of each row). A row of length 0 has log Z = 0, score 0 and decodes to all zeros.

Disallowed transitions, starts and ends (see `bio_allowed_transitions`) add
`DISALLOWED_SCORE` (finite, so gradients stay finite) to the scores, in training and
decoding alike.
"""

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error

DISALLOWED_SCORE = -1e4  # added to the score of every disallowed transition, start, end


def _bool_matrix(name, value, shape):
    """Returns ``value`` as a numpy bool array of ``shape``, or raises the rule."""
    rule = (f"must be a list of {shape[0]} booleans" if len(shape) == 1 else
            f"must be a {shape[0]} x {shape[1]} list of lists of booleans")
    try:
        array = np.array(value, dtype=object)
        ok = array.shape == shape and all(isinstance(v, (bool, np.bool_))
                                          for v in array.ravel())
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise pipeline_error(name, rule, value)
    return array.astype(bool)


def bio_allowed_transitions(tag_names):
    """The allowed-transition arguments of `LinearChainCRF` for IOB2 tags.

    ``I-X`` may only follow ``B-X`` or ``I-X`` and may not start a sentence; everything
    else is allowed. Use as ``LinearChainCRF(len(names), **bio_allowed_transitions(names))``.

    Args:
        tag_names: tag names in id order, e.g. ["O", "B-PER", "I-PER"].

    Returns:
        {"allowed_transitions": [[bool]], "allowed_start": [bool], "allowed_end": [bool]}.
    """
    parsed = []  # (prefix, type) per tag
    for name in tag_names:
        prefix, _, kind = str(name).partition("-")
        if not (name == "O" or (prefix in ("B", "I") and kind)):
            raise pipeline_error(
                "tags", "must be IOB2 names (O, B-TYPE, I-TYPE) for tagging.constrain_bio",
                name)
        parsed.append((prefix, kind))
    allowed = [[not (nxt[0] == "I" and (prev[0] == "O" or prev[1] != nxt[1]))
                for nxt in parsed] for prev in parsed]
    return {"allowed_transitions": allowed,
            "allowed_start": [prefix != "I" for prefix, _ in parsed],
            "allowed_end": [True] * len(parsed)}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class LinearChainCRF(keras.layers.Layer):
    """Unary potentials -> Viterbi tags; `log_likelihood` for training.

    The weights are float32 whatever the dtype policy, and potentials are cast to
    float32 inside (the forward recursion is not safe in float16).

    Args:
        num_tags: number of tags (>= 1).
        allowed_transitions: optional [num_tags][num_tags] bools, ``[i][j]``: tag j may
            follow tag i. None = all allowed.
        allowed_start: optional [num_tags] bools: the tags a row may start with.
        allowed_end: optional [num_tags] bools: the tags a row may end with.
        initializer: initializer of the three weights (default zeros).
    """

    def __init__(self, num_tags, allowed_transitions=None, allowed_start=None,
                 allowed_end=None, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise pipeline_error("num_tags", "must be at least 1", num_tags)
        self.num_tags = num_tags
        n = num_tags
        self._allowed = {
            "allowed_transitions": None if allowed_transitions is None else
            _bool_matrix("allowed_transitions", allowed_transitions, (n, n)),
            "allowed_start": None if allowed_start is None else
            _bool_matrix("allowed_start", allowed_start, (n,)),
            "allowed_end": None if allowed_end is None else
            _bool_matrix("allowed_end", allowed_end, (n,))}
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True  # the decoded tags keep the input's mask

    def _penalty(self, key, shape):
        allowed = self._allowed[key]
        allowed = np.ones(shape, bool) if allowed is None else allowed
        return tf.constant(np.where(allowed, 0.0, DISALLOWED_SCORE), tf.float32)

    def build(self, input_shape=None):
        n = self.num_tags
        self.transitions = self.add_weight(shape=(n, n), name="transitions",
                                           initializer=self.initializer, dtype="float32")
        self.start_scores = self.add_weight(shape=(n,), name="start_scores",
                                            initializer=self.initializer, dtype="float32")
        self.end_scores = self.add_weight(shape=(n,), name="end_scores",
                                          initializer=self.initializer, dtype="float32")

    def _scores(self):
        """(transitions, start, end) with the disallowed penalties added."""
        if not self.built:
            self.build()
        n = self.num_tags
        transitions = tf.convert_to_tensor(self.transitions)  # (tags, tags)
        start, end = tf.convert_to_tensor(self.start_scores), tf.convert_to_tensor(self.end_scores)
        return (transitions + self._penalty("allowed_transitions", (n, n)),
                start + self._penalty("allowed_start", (n,)),
                end + self._penalty("allowed_end", (n,)))

    @staticmethod
    def _prepare(potentials, mask):
        """float32 potentials, bool mask (all true when None), int32 lengths (batch,)."""
        potentials = tf.cast(potentials, tf.float32)  # (batch, time, tags)
        if mask is None:
            mask = tf.ones(tf.shape(potentials)[:2], tf.bool)
        mask = tf.cast(mask, tf.bool)  # (batch, time)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # (batch,)
        return potentials, mask, lengths

    def _time_major(self, potentials, mask):
        """Scan inputs: (pot (time, batch, tags), mask (time, batch), first (time,))."""
        steps = tf.range(tf.shape(potentials)[1])
        return (tf.transpose(potentials, [1, 0, 2]), tf.transpose(mask), tf.equal(steps, 0))

    def log_partition(self, potentials, mask=None):
        """log Z of each row by the forward algorithm.

        Args:
            potentials: float (batch, time, num_tags) unary scores.
            mask: bool (batch, time), left-aligned; None = all tokens real.

        Returns:
            float32 (batch,); 0 for rows of length 0.
        """
        transitions, start, end = self._scores()
        potentials, mask, lengths = self._prepare(potentials, mask)

        def step(alpha, inputs):  # alpha: (batch, tags) log-sum over paths ending there
            pot, real, first = inputs
            following = tf.reduce_logsumexp(alpha[:, :, None] + transitions, axis=1) + pot
            new = tf.where(first, start + pot, following)
            return tf.where(real[:, None], new, alpha)

        alpha = tf.zeros(tf.stack([tf.shape(potentials)[0], self.num_tags]))
        alpha = tf.foldl(step, self._time_major(potentials, mask), initializer=alpha)
        return tf.where(lengths > 0, tf.reduce_logsumexp(alpha + end, axis=-1), 0.0)

    def sequence_score(self, potentials, tags, mask=None):
        """Unnormalised score of the given tag paths (penalties included).

        Args:
            potentials: float (batch, time, num_tags).
            tags: int (batch, time) tag ids (ignored where the mask is False).
            mask: bool (batch, time), left-aligned; None = all tokens real.

        Returns:
            float32 (batch,).
        """
        transitions, start, end = self._scores()
        potentials, mask, _ = self._prepare(potentials, mask)
        tags = tf.cast(tags, tf.int32)
        real = tf.cast(mask, tf.float32)  # (batch, time)
        unary = tf.gather(potentials, tags, batch_dims=2)  # (batch, time)
        first = tf.cast(tf.equal(tf.range(tf.shape(tags)[1]), 0), tf.float32)  # (time,)
        next_real = tf.concat([mask[:, 1:], tf.zeros_like(mask[:, :1])], axis=1)
        last = tf.cast(mask & ~next_real, tf.float32)  # (batch, time) 1 at the last token
        pairs = tf.stack([tags[:, :-1], tags[:, 1:]], axis=-1)  # (batch, time - 1, 2)
        moves = tf.gather_nd(transitions, pairs) * real[:, 1:]  # (batch, time - 1)
        per_token = (unary + tf.gather(start, tags) * first + tf.gather(end, tags) * last)
        return tf.reduce_sum(per_token * real, axis=1) + tf.reduce_sum(moves, axis=1)

    def log_likelihood(self, potentials, tags, mask=None):
        """log p(tags | potentials) = score(tags) - log Z, per row.

        Args:
            potentials: float (batch, time, num_tags).
            tags: int (batch, time) gold tags.
            mask: bool (batch, time), left-aligned; None = all tokens real.

        Returns:
            float32 (batch,); 0 for rows of length 0.
        """
        return (self.sequence_score(potentials, tags, mask)
                - self.log_partition(potentials, mask))

    def viterbi(self, potentials, mask=None):
        """The best tag path of each row.

        Args:
            potentials: float (batch, time, num_tags).
            mask: bool (batch, time), left-aligned; None = all tokens real.

        Returns:
            (tags int32 (batch, time), 0 where masked; best_score float32 (batch,),
            0 for rows of length 0).
        """
        transitions, start, end = self._scores()
        potentials, mask, lengths = self._prepare(potentials, mask)
        batch = tf.shape(potentials)[0]
        keep = tf.range(self.num_tags)[None, :]  # (1, tags) back-pointer of padding

        def step(state, inputs):
            delta, _ = state  # (batch, tags) best score of a path ending in each tag
            pot, real, first = inputs
            candidates = delta[:, :, None] + transitions  # (batch, previous, next)
            best_previous = tf.argmax(candidates, axis=1, output_type=tf.int32)
            new = tf.where(first, start + pot, tf.reduce_max(candidates, axis=1) + pot)
            return (tf.where(real[:, None], new, delta),
                    tf.where(real[:, None], best_previous, keep))

        delta0 = tf.zeros(tf.stack([batch, self.num_tags]))
        deltas, pointers = tf.scan(step, self._time_major(potentials, mask),
                                   initializer=(delta0, tf.zeros_like(delta0, tf.int32)))
        final = tf.concat([delta0[None], deltas], axis=0)[-1] + end  # (batch, tags)
        best_last = tf.argmax(final, axis=-1, output_type=tf.int32)  # (batch,)

        def back(state, pointer):  # state: (tag at t, unused); pointer: (batch, tags)
            tag, _ = state
            return tf.gather(pointer, tag, batch_dims=1), tag

        _, tags = tf.scan(back, pointers, initializer=(best_last, best_last), reverse=True)
        tags = tf.where(mask, tf.transpose(tags), 0)  # (batch, time)
        best_score = tf.where(lengths > 0, tf.reduce_max(final, axis=-1), 0.0)
        return tags, best_score

    def call(self, potentials, mask=None):
        """Viterbi-decoded tags, int32 (batch, time), 0 where ``mask`` is False."""
        return self.viterbi(potentials, mask)[0]

    def compute_output_spec(self, potentials, mask=None):
        return keras.KerasTensor(potentials.shape[:2], dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update({"num_tags": self.num_tags,
                       "initializer": keras.initializers.serialize(self.initializer)})
        config.update({key: None if value is None else value.tolist()
                       for key, value in self._allowed.items()})
        return config


def crf_loss(crf, potentials, tags, mask=None):
    """Mean negative log-likelihood over the batch (a scalar), for a custom train step
    or ``model.add_loss``.

    Args:
        crf: a `LinearChainCRF`.
        potentials: float (batch, time, num_tags).
        tags: int (batch, time) gold tags.
        mask: bool (batch, time), left-aligned; None = all tokens real.
    """
    return -tf.reduce_mean(crf.log_likelihood(potentials, tags, mask))
