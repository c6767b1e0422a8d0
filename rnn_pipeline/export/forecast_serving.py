"""The TF Serving view of a trained `Forecaster`: raw history in, raw forecast out (the
scaler and instance normalisation are inside the model)."""

import numpy as np
import tensorflow as tf


class ForecastServing(tf.Module):
    """Signature ``serving_default``: ``history`` [batch, lookback, inputs] float32 ->
    ``forecast`` [batch, horizon, targets] float32.

    Args:
        model: a trained `Forecaster`.
    """

    def __init__(self, model):
        super().__init__(name="forecast_serving")
        # The tf.Variables themselves: TF1-style loaders restore what the graph reads.
        self.model_variables = [variable.value for variable in model.variables]
        self._model = [model]  # a list hides the Keras model from tracking
        config = model.get_config()
        self.lookback, self.num_inputs = config["lookback"], config["num_inputs"]
        self.mean = np.asarray(config["mean"], np.float32)
        self.generate = tf.function(self._forecast, input_signature=[
            tf.TensorSpec([None, self.lookback, self.num_inputs], tf.float32, name="history")])

    def _forecast(self, history):
        return {"forecast": self._model[0](history, training=False)}

    def signatures(self):
        return {"serving_default": self.generate}

    def warmup_inputs(self):
        """Two windows at the training mean, a realistic level for every column."""
        window = np.broadcast_to(self.mean, (2, self.lookback, self.num_inputs))
        return {"serving_default": {"history": window.tolist()}}
