"""The adding problem (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015).

Each sequence has two channels over T steps: random values in [0, 1) and a marker that is
1 at exactly two steps, one in each half, and 0 elsewhere. The target is the sum of the
two marked values. The first marker can be up to T - 1 steps before the answer, so a model
must carry information across the whole sequence. Always answering 1.0 (the mean) gives an
expected squared error of Var(u1 + u2) = 2/12 = 1/6.
"""

import tensorflow as tf

ALWAYS_ONE_MSE = 1.0 / 6.0


def adding_batch(seed, batch_size, length):
    """One batch of the adding problem (deterministic for a seed).

    Args:
        seed: a shape-[2] int tensor (stateless random seed).
        batch_size: sequences in the batch.
        length: T, steps per sequence (at least 2).

    Returns:
        (inputs (batch, T, 2): values and markers, targets (batch, 1)).
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    values = tf.random.stateless_uniform((batch_size, length), seeds[0])  # (batch, T)
    half = length // 2
    first = tf.random.stateless_uniform((batch_size,), seeds[1], 0, half, tf.int32)
    second = tf.random.stateless_uniform((batch_size,), seeds[2], half, length, tf.int32)
    markers = tf.one_hot(first, length) + tf.one_hot(second, length)  # (batch, T)
    targets = tf.reduce_sum(values * markers, axis=-1, keepdims=True)  # (batch, 1)
    return tf.stack([values, markers], axis=-1), targets


def adding_dataset(length, batch_size, seed):
    """Endless tf.data of fresh adding-problem batches (batch i is seeded by (seed, i))."""
    return tf.data.Dataset.counter().map(lambda i: adding_batch(tf.stack([tf.constant(seed, tf.int64), i]),
                                            batch_size, length))
