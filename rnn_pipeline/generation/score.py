"""Scoring texts with a `CausalLM`: the log-likelihood of each text as one line."""

import tensorflow as tf


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


def score_outputs(log_likelihood, num_tokens):
    """The ``score`` signature's outputs, with the per-text perplexity."""
    perplexity = tf.exp(-log_likelihood / tf.cast(num_tokens, tf.float32))
    return {"log_likelihood": log_likelihood, "num_tokens": num_tokens, "perplexity": perplexity}


def score(model, texts, preprocessor=None):
    """Scores each text as one line.

    Args:
        model: a trained `CausalLM`.
        texts: a list of strings.
        preprocessor: the `TextPreprocessor`; defaults to ``model.preprocessor``.

    Returns:
        dict of NumPy arrays (batch,): log_likelihood (nats), num_tokens, perplexity.
    """
    from rnn_pipeline.data.vocabulary import EOS
    from rnn_pipeline.generation.stepper import RecurrentStepper

    preprocessor = preprocessor or model.preprocessor
    stepper = RecurrentStepper(model)
    eos_id = preprocessor.vocabulary.index(EOS)

    @tf.function
    def run(texts):
        return score_outputs(*score_ids(stepper, preprocessor(texts), eos_id))

    return {name: value.numpy() for name, value in run(tf.constant(list(texts))).items()}
