"""Scoring texts with a `CausalLM`: the log-likelihood of each text as one line."""

import tensorflow as tf

from rnn_pipeline.data.vocabulary import UNK


def score_ids(stepper, ids, eos_id):
    """Log-likelihood of each row read as a line: ``<eos> + ids`` predicts ``ids + <eos>``,
    the protocol of training and evaluation (the closing ``<eos>`` is counted).

    Args:
        stepper: a `RecurrentStepper`.
        ids: int32 RaggedTensor (batch, None).
        eos_id: id of ``<eos>``.

    Returns:
        (log_likelihood float32 (batch,) in nats, num_tokens int32 (batch,)).
    """
    batch = ids.nrows(out_type=tf.int32)
    eos = tf.RaggedTensor.from_tensor(tf.fill([batch, 1], eos_id))
    inputs = tf.concat([eos, ids], axis=1).to_tensor()  # (batch, time)
    targets = tf.concat([ids, eos], axis=1)
    lengths = tf.cast(targets.row_lengths(), tf.int32)  # (batch,)
    targets = targets.to_tensor()  # (batch, time)

    def body(t, state, total):
        logits, state = stepper.step(inputs[:, t], state)  # (batch, vocab)
        picked = tf.gather(tf.nn.log_softmax(logits), targets[:, t], batch_dims=1)
        return t + 1, state, total + tf.where(t < lengths, picked, 0.0)

    _, _, total = tf.while_loop(lambda t, *_: t < tf.shape(inputs)[1], body,
                                (tf.constant(0), stepper.initial_state(batch), tf.zeros([batch])))
    return total, lengths


def unknown_words(tokens, ids, unk_id=0):
    """Tokens of each row that are not in the vocabulary (they were read as ``<unk>``; the
    token ``<unk>`` itself, as PTB writes it, is in the vocabulary).

    Args:
        tokens: string RaggedTensor (batch, None).
        ids: their int32 ids, the same shape.
        unk_id: id of ``<unk>``.

    Returns:
        int32 (batch,).
    """
    unknown = tf.logical_and(tf.equal(ids, unk_id), tf.not_equal(tokens, UNK))
    return tf.reduce_sum(tf.cast(unknown, tf.int32), axis=1)  # (batch,)


def score_outputs(stepper, tokens, ids, eos_id):
    """The ``score`` signature's outputs: log-likelihood, token count, perplexity and the
    out-of-vocabulary words of each row.

    Args:
        stepper: a `RecurrentStepper`.
        tokens: string RaggedTensor (batch, None).
        ids: their int32 ids, the same shape.
        eos_id: id of ``<eos>``.
    """
    log_likelihood, num_tokens = score_ids(stepper, ids, eos_id)
    perplexity = tf.exp(-log_likelihood / tf.cast(num_tokens, tf.float32))
    return {"log_likelihood": log_likelihood, "num_tokens": num_tokens,
            "perplexity": perplexity, "unknown_words": unknown_words(tokens, ids)}


def score(model, texts, preprocessor=None):
    """Scores each text as one line.

    Args:
        model: a trained `CausalLM`.
        texts: a list of strings.
        preprocessor: the `TextPreprocessor`; defaults to ``model.preprocessor``.

    Returns:
        dict of NumPy arrays (batch,): log_likelihood (nats), num_tokens, perplexity,
        unknown_words (words out of the vocabulary).
    """
    from rnn_pipeline.data.vocabulary import EOS
    from rnn_pipeline.generation.stepper import RecurrentStepper

    preprocessor = preprocessor or model.preprocessor
    stepper = RecurrentStepper(model)
    eos_id = preprocessor.vocabulary.index(EOS)

    @tf.function
    def run(texts):
        tokens = preprocessor.tokens(texts)
        ids = tf.cast(preprocessor.lookup(tokens), tf.int32)
        return score_outputs(stepper, tokens, ids, eos_id)

    return {name: value.numpy() for name, value in run(tf.constant(list(texts))).items()}
