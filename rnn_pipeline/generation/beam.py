"""Beam search over an explicit-state stepper, in the graph."""

import tensorflow as tf

_NEG = -1e9


def beam_search(stepper, logits, state, max_tokens, num_beams, eos_id, stop_at_eos,
                length_penalty=0.0):
    """Keeps the ``num_beams`` most probable continuations of every row.

    Args:
        stepper: a `RecurrentStepper`.
        logits: (batch, vocab) logits of the first token to choose.
        state: flat state after the prompt, (batch, units) each.
        max_tokens: tokens to generate.
        num_beams: hypotheses kept per row (1 is greedy decoding).
        eos_id: id of ``<eos>``.
        stop_at_eos: a finished hypothesis only continues with ``<eos>`` at no cost.
        length_penalty: the final choice ranks log-probability / length ** length_penalty
            (length up to and including the first ``<eos>``); 0 ranks the plain sum, which
            favours short hypotheses.

    Returns:
        int32 (batch, max_tokens): the most probable hypothesis of each row.
    """
    batch, vocab = tf.shape(logits)[0], tf.shape(logits)[1]
    beams = num_beams
    state = [tf.repeat(s, beams, axis=0) for s in state]  # (batch * beams, units)
    logits = tf.repeat(logits, beams, axis=0)  # (batch * beams, vocab)
    first = tf.concat([[0.0], tf.fill([beams - 1], _NEG)], axis=0)
    scores = tf.tile(first[None, :], [batch, 1])  # (batch, beams): one live beam at first
    sequences = tf.zeros([batch, beams, max_tokens], tf.int32)
    done = tf.zeros([batch, beams], tf.bool)
    eos_only = tf.where(tf.range(vocab) == eos_id, 0.0, _NEG)  # (vocab,)

    def body(t, logits, state, scores, sequences, done):
        log_probs = tf.reshape(tf.nn.log_softmax(logits), [batch, beams, vocab])
        log_probs = tf.where(done[:, :, None], eos_only, log_probs)
        total = tf.reshape(scores[:, :, None] + log_probs, [batch, beams * vocab])
        scores, flat = tf.math.top_k(total, k=beams)  # (batch, beams)
        parent, token = flat // vocab, tf.cast(flat % vocab, tf.int32)
        sequences = tf.gather(sequences, parent, batch_dims=1)
        sequences += tf.one_hot(t, max_tokens, dtype=tf.int32)[None, None, :] * token[:, :, None]
        done = tf.gather(done, parent, batch_dims=1) | (stop_at_eos & (token == eos_id))
        state = [tf.reshape(tf.gather(tf.reshape(s, [batch, beams, -1]), parent, batch_dims=1),
                            [batch * beams, -1]) for s in state]
        logits, state = stepper.step(tf.reshape(token, [-1]), state)
        return t + 1, logits, state, scores, sequences, done

    loop_vars = (tf.constant(0), logits, state, scores, sequences, done)
    # The batch is static when the prompts are (one traced call), but the reshapes in the
    # body lose it: every loop variable keeps its rank only.
    invariants = tf.nest.map_structure(lambda v: tf.TensorShape([None] * v.shape.rank),
                                       loop_vars)
    _, _, _, scores, sequences, _ = tf.while_loop(
        lambda t, *_: t < max_tokens, body, loop_vars, shape_invariants=invariants)
    if length_penalty:
        is_eos = tf.equal(sequences, eos_id)  # (batch, beams, max_tokens)
        first = tf.argmax(tf.cast(is_eos, tf.int32), axis=2, output_type=tf.int32)
        lengths = tf.where(tf.reduce_any(is_eos, axis=2), first + 1, max_tokens)
        scores = scores / tf.pow(tf.cast(lengths, scores.dtype), length_penalty)
    best = tf.argmax(scores, axis=1, output_type=tf.int32)  # (batch,)
    return tf.gather(sequences, best, batch_dims=1)  # (batch, max_tokens)
