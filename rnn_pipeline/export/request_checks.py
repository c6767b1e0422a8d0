"""Checks of a signature's numeric inputs, inside the exported graph: a request that breaks
one fails with the one error format, naming the input and the first value that breaks it,
on TF Serving and on ``rnn-pipeline serve`` alike."""

import tensorflow as tf

RECEIVED = "Received: "


def assert_all(valid, values, argument, rule):
    """An assertion op: every element of ``valid`` is True, or the request fails with
    ``"<argument> <rule>. Received: <argument>=<the first value that is not>"``.

    Args:
        valid: bool tensor, one element per element of ``values``.
        values: the input's tensor (any shape; an empty one passes).
        argument: the input's name.
        rule: what its values must be, e.g. "must be in [0, 1000]".
    """
    invalid = tf.concat([tf.reshape(~valid, [-1]), [True]], axis=0)  # a last True: never empty
    first = tf.argmax(tf.cast(invalid, tf.int32), output_type=tf.int32)
    shown = tf.gather(tf.concat([tf.reshape(values, [-1]), tf.zeros([1], values.dtype)], 0),
                      first)
    return tf.debugging.Assert(tf.reduce_all(valid),
                               [f"{argument} {rule}. {RECEIVED}{argument}=", shown])


def assert_in_range(values, argument, low, high):
    """`assert_all` for integers in ``[low, high]``."""
    return assert_all((values >= low) & (values <= high), values, argument,
                      f"must be in [{low}, {high}]")


def assert_finite(values, argument, rule="must be a finite number"):
    """`assert_all` for floats that are neither NaN nor infinite."""
    return assert_all(tf.math.is_finite(values), values, argument, rule)
