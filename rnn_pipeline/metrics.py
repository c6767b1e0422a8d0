"""Perplexity: exp(total negative log-likelihood / number of predicted tokens)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class Perplexity(keras.metrics.Metric):
    """Exact corpus perplexity from logits, accumulated over batches.

    ``y_pred`` is either logits (..., vocab) or, with the rank of ``y_true``, each
    token's negative log-likelihood already (what an adaptive softmax trains on).

    Sums the weighted NLL and the weights, so padded positions (weight 0) count
    neither in the numerator nor in the token count.
    """

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total_nll = self.add_variable(shape=(), initializer="zeros", name="total_nll",
                                           dtype="float64")
        self.num_tokens = self.add_variable(shape=(), initializer="zeros", name="num_tokens",
                                            dtype="float64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_pred.shape) == len(y_true.shape):
            nll = ops.cast(y_pred, "float32")  # (...): the NLL itself
        else:
            nll = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
        weight = (ops.ones_like(nll) if sample_weight is None
                  else ops.cast(sample_weight, nll.dtype))
        self.total_nll.assign_add(ops.cast(ops.sum(nll * weight), "float64"))
        self.num_tokens.assign_add(ops.cast(ops.sum(weight), "float64"))

    def result(self):
        return ops.cast(ops.exp(ops.divide_no_nan(self.total_nll, self.num_tokens)), "float32")

    def mean_nll(self):
        return float(self.total_nll.numpy() / max(self.num_tokens.numpy(), 1.0))
