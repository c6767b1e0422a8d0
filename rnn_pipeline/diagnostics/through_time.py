"""Gradient norms through time: how much of the last step's loss reaches earlier states.

For a window of T tokens, the language model's loss at the last step, L_T, depends on the
state s_t of every layer at every earlier step t through s_{t+1}, ..., s_T. We unroll the
model's own cells step by step and let autodiff give dL_T/ds_t for every t at once. For an
Elman RNN ``h_t = f(W x_t + W_h h_{t-1} + b)`` the chain rule gives

    dL_T/dh_t = (dL_T/dh_T) * prod_{k=t+1..T} diag(f'(a_k)) W_h,

so its norm shrinks or grows roughly like (max|f'| * sigma_max(W_h))^(T-t): the
vanishing/exploding gradient. An LSTM's or GRU's state is the concatenation of its state
tensors (h and c for an LSTM).
"""

import numpy as np
import tensorflow as tf


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


def state_gradient_norms(model, token_ids, targets):
    """Norms of dL_T/ds_t for every layer and step.

    Args:
        model: a `CausalLM` (its backbone's cells are unrolled; dropout is off).
        token_ids: int array (batch, T).
        targets: int array (batch, T); only the last column enters L_T.

    Returns:
        float array (layers, T): entry [l, t] is the mean over the batch of
        ||dL_T/ds_t|| for layer l at step t + 1 (so the last column is the gradient at
        step T itself). L_T is the cross-entropy of each sequence's last token.
    """
    backbone = model.backbone
    cells = [layer.cell for layer in backbone.rnn_layers]
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    batch, steps = token_ids.shape
    with tf.GradientTape() as tape:
        x = backbone.token_embedding(token_ids)  # (batch, T, embedding_dim)
        states = [[tf.zeros((batch, size)) for size in _as_list(cell.state_size)]
                  for cell in cells]
        history = [[] for _ in cells]  # history[l][t]: the state tensors of layer l at t
        for t in range(steps):
            h = x[:, t]  # (batch, features)
            for l, cell in enumerate(cells):
                h, new = cell(h, states[l], training=False)
                states[l] = _as_list(new)
                tape.watch(states[l])
                history[l].append(states[l])
        logits = model.project(h)  # (batch, vocab)
        # Summed over the batch, so that each sequence's gradient is its own.
        loss = tf.reduce_sum(tf.keras.losses.sparse_categorical_crossentropy(
            tf.convert_to_tensor(targets)[:, -1], logits, from_logits=True))
    gradients = tape.gradient(loss, history)
    norms = np.zeros((len(cells), steps))
    for l, per_step in enumerate(gradients):
        for t, parts in enumerate(per_step):
            squares = sum(tf.reduce_sum(tf.square(g), axis=-1) for g in parts)  # (batch,)
            norms[l, t] = float(tf.reduce_mean(tf.sqrt(squares)))
    return norms


FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # ~1.2e-38: smaller gradients underflow to 0


def decay_per_step(norms):
    """log10 of the norm ratio between the first and the last step of the window.

    Args:
        norms: (T,) norms of dL_T/ds_t, t = 1..T.

    Returns:
        (log10 change over the window, T - 1): e.g. (-6.0, 49) means the gradient at
        step 1 is 10^-6 of the one at step T, 49 steps earlier. A gradient that underflowed
        to 0 counts as float32's smallest normal number, so the change is a lower bound.
    """
    norms = np.asarray(norms, dtype=float)
    first, last = max(norms[0], FLOAT32_TINY), max(norms[-1], FLOAT32_TINY)
    return float(np.log10(first / last)), len(norms) - 1
