"""One token at a time through a trained `CausalLM`, with the recurrent state explicit."""

import tensorflow as tf


def stack_steps(tokens, batch):
    """A `tf.TensorArray` of (batch,) ids, one per step -> int32 (batch, steps); zero steps
    give (batch, 0) (stacking an empty array has no element shape to go by).

    Args:
        tokens: the loop's `tf.TensorArray` of int32 (batch,) tokens.
        batch: int32 scalar, the rows.
    """
    stacked = tf.cond(tokens.size() > 0, lambda: tf.transpose(tokens.stack()),
                      lambda: tf.zeros([batch, 0], tf.int32))
    return tf.reshape(stacked, [batch, tokens.size()])


class RecurrentStepper:
    """Runs the layers of a `CausalLM` one step at a time (inference: no dropout).

    The state is a flat list of tensors, (batch, units) each: ``[h, c]`` per LSTM layer,
    ``[h]`` per GRU or SimpleRNN layer. This is what generation, beam search and the
    serving exports loop over.

    Args:
        model: a trained `CausalLM`.
    """

    def __init__(self, model):
        self.model = model
        self.backbone = model.backbone
        self.cells = [rnn.cell for rnn in self.backbone.rnn_layers]
        self.sizes = [list(c.state_size) if isinstance(c.state_size, (list, tuple))
                      else [c.state_size] for c in self.cells]

    def initial_state(self, batch_size):
        return [tf.zeros([batch_size, size]) for sizes in self.sizes for size in sizes]

    def step(self, token_ids, state):
        """Args:
            token_ids: int32 (batch,).
            state: flat list from `initial_state` or a previous step.

        Returns:
            (logits (batch, vocab), new flat state).
        """
        x = self.backbone.token_embedding(token_ids)  # (batch, embedding_dim)
        new_state, position = [], 0
        for cell, sizes in zip(self.cells, self.sizes):
            layer_state = state[position:position + len(sizes)]
            position += len(sizes)
            x, layer_state = cell(x, layer_state, training=False)  # (batch, units)
            new_state += list(layer_state)
        logits = self.model.project(x)
        return tf.cast(logits, tf.float32), new_state  # (batch, vocab)

    def read_prompts(self, prompt_ids, start_id):
        """Feeds ``<start> + prompt`` of every row, rows of different lengths at once.

        Args:
            prompt_ids: int32 RaggedTensor (batch, None).
            start_id: id fed before each prompt (``<eos>``).

        Returns:
            (logits for the token after each prompt (batch, vocab), state after it).
        """
        batch = prompt_ids.nrows(out_type=tf.int32)
        start = tf.fill([batch, 1], start_id)
        ids = tf.concat([tf.RaggedTensor.from_tensor(start), prompt_ids], axis=1)
        lengths = tf.cast(ids.row_lengths(), tf.int32)  # (batch,)
        dense = ids.to_tensor()  # (batch, max_len), right-padded
        vocab = self.backbone.vocabulary_size

        def body(t, state, last_logits):
            logits, new_state = self.step(dense[:, t], state)
            active = t < lengths  # (batch,)
            state = [tf.where(active[:, None], n, o) for n, o in zip(new_state, state)]
            last_logits = tf.where((t == lengths - 1)[:, None], logits, last_logits)
            return t + 1, state, last_logits

        _, state, logits = tf.while_loop(
            lambda t, *_: t < tf.shape(dense)[1], body,
            (tf.constant(0), self.initial_state(batch), tf.zeros([batch, vocab])))
        return logits, state
