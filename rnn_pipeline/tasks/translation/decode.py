"""Decoding a `Seq2SeqTranslator` in the graph: greedy or beam search over target tokens."""

import tensorflow as tf

from rnn_pipeline.tasks.translation.data import BOS_ID, EOS_ID, source_ids
from rnn_pipeline.generation.beam import beam_search
from rnn_pipeline.generation.detokenize import detokenizer_for
from rnn_pipeline.generation.stepper import stack_steps


class DecoderStepper:
    """One target token at a time, attending to a fixed encoded source (inference).

    Args:
        model: a `Seq2SeqTranslator`.
        memory: (batch, S, units) encoder outputs, or None without attention.
        memory_mask: (batch, S) bool, False at padding.
    """

    def __init__(self, model, memory, memory_mask):
        self.model, self.memory, self.memory_mask = model, memory, memory_mask

    def repeated(self, times):
        """The same stepper with every source row repeated ``times`` (for beams)."""
        memory = None if self.memory is None else tf.repeat(self.memory, times, axis=0)
        return DecoderStepper(self.model, memory, tf.repeat(self.memory_mask, times, axis=0))

    def step(self, token_ids, state):
        """(batch,) ids and the flat state -> (logits (batch, vocab), new flat state)."""
        x = self.model.target_embedding(token_ids)  # (batch, embedding_dim)
        new_state = []
        for layer, layer_state in zip(self.model.decoder_layers, self.model._per_layer(state)):
            x, layer_state = layer.cell(x, list(layer_state), training=False)  # (batch, units)
            new_state += list(layer_state) if isinstance(layer_state, (list, tuple)) \
                else [layer_state]
        logits = self.model.readout(x[:, None, :], self.memory, self.memory_mask)[:, 0]
        return tf.cast(logits, tf.float32), new_state  # (batch, vocab)


def greedy_search(stepper, logits, state, max_tokens):
    """The most probable token at every step: int32 (batch, max_tokens)."""
    batch = tf.shape(logits)[0]

    def body(t, logits, state, tokens):
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (batch,)
        logits, state = stepper.step(token, state)
        return t + 1, logits, state, tokens.write(t, token)

    _, _, _, tokens = tf.while_loop(
        lambda t, *_: t < max_tokens, body,
        (tf.constant(0), logits, state, tf.TensorArray(tf.int32, size=max_tokens)))
    return stack_steps(tokens, batch)  # (batch, max_tokens)


def decode_ids(model, source_ids, max_tokens, bos_id, eos_id, num_beams=1, length_penalty=0.0):
    """Translates padded source ids; graph code.

    Args:
        model: a `Seq2SeqTranslator`.
        source_ids: int32 (batch, S), padded with ``model.pad_id``.
        max_tokens: largest translation length in tokens (``<eos>`` included).
        bos_id, eos_id: target ids that start and end a translation.
        num_beams: 1 is greedy search; more is beam search.
        length_penalty: beam search ranks log-probability / length ** length_penalty.

    Returns:
        int32 RaggedTensor (batch, None): the tokens before the first ``<eos>``.
    """
    memory, memory_mask, state = model.encode(source_ids, training=False)
    stepper = DecoderStepper(model, memory, memory_mask)
    batch = tf.shape(source_ids)[0]
    logits, state = stepper.step(tf.fill([batch], bos_id), state)
    if num_beams == 1:
        tokens = greedy_search(stepper, logits, state, max_tokens)
    else:
        tokens = beam_search(stepper.repeated(num_beams), logits, state, max_tokens, num_beams,
                             eos_id, stop_at_eos=True, length_penalty=length_penalty)
    before_eos = tf.reduce_sum(tf.cast(tf.cumsum(tf.cast(tokens == eos_id, tf.int32), axis=1)
                                       == 0, tf.int32), axis=1)  # (batch,)
    return tf.RaggedTensor.from_tensor(tokens, lengths=before_eos)


def translate_text(model, texts, max_tokens, num_beams=1, length_penalty=0.0, language=None):
    """(batch,) source strings -> (batch,) translations; graph code.

    Args:
        model: a `Seq2SeqTranslator` with both preprocessors.
        texts: string tensor (batch,).
        max_tokens, num_beams, length_penalty: see `decode_ids`.
        language: the target's ISO code; picks the detokenizer (`detokenizer_for`).
    """
    ids = decode_ids(model, source_ids(model.source_preprocessor, texts), max_tokens,
                     BOS_ID, EOS_ID, num_beams=num_beams, length_penalty=length_penalty)
    return detokenizer_for(language)(model.target_preprocessor.detokenize(ids))
