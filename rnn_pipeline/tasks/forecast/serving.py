"""The TF Serving view of a trained `Forecaster`: raw history in, raw forecast out (the
scaler and instance normalisation are inside the model)."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.export.request_checks import assert_finite


class ForecastServing(tf.Module):
    """Signature ``serving_default``: ``history`` [batch, lookback, inputs] float32 ->
    ``forecast`` [batch, horizon, targets] float32; a model with a distribution returns
    ``mean`` [batch, horizon, targets] and ``quantiles`` [batch, horizon, targets, Q] at
    its ``quantiles`` levels instead. A history with NaN or infinity is refused, naming it.
    A model of many series with a series id embedding has a second signature,
    ``by_series``, that also takes ``series_id`` [batch] string; ``serving_default`` gives
    it the embedding of an unknown series (the one an id unseen in training gets).

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
        self.horizon = config["horizon"]
        self.vocabularies = config.get("categorical_vocabularies") or []
        self.calendar = config.get("calendar") or []
        self.mean = np.asarray(config["mean"], np.float32)
        specs = [tf.TensorSpec([None, self.lookback, self.num_inputs], tf.float32,
                               name="history")]
        if self.vocabularies:
            specs.append(tf.TensorSpec([None, self.lookback, len(self.vocabularies)],
                                       tf.string, name="categories"))
        if self.calendar:
            specs.append(tf.TensorSpec([None, self.lookback + self.horizon], tf.int64,
                                       name="time"))
        self.input_names = [spec.name for spec in specs]
        self.by_id = bool(config.get("id_embedding"))
        self.generate = tf.function(self._forecast, input_signature=specs)
        if self.by_id:
            self.generate_by_series = tf.function(
                self._forecast, input_signature=[*specs, tf.TensorSpec([None], tf.string,
                                                                       name="series_id")])

    def _forecast(self, *tensors):
        model = self._model[0]
        with tf.control_dependencies([assert_finite(tensors[0], "history",
                                                    "must hold finite numbers only")]):
            tensors = [tf.identity(tensor) for tensor in tensors]
        inputs = dict(zip(self.input_names, tensors)) if len(tensors) > 1 else tensors[0]
        if self.by_id:
            inputs = dict(inputs) if isinstance(inputs, dict) else {"history": inputs}
            unknown = tf.fill(tf.shape(tensors[0])[:1], "")  # (batch,)
            inputs["series_id"] = tensors[-1] if len(tensors) > len(self.input_names) \
                else unknown
        output = model(inputs, training=False)
        if not model.probabilistic:
            return {"forecast": output}
        levels = model.task_config["quantiles"]
        quantiles = tf.stack([model.family.quantile(output, q) for q in levels], axis=-1)
        return {"mean": model.family.mean(output), "quantiles": quantiles}

    def signatures(self):
        found = {"serving_default": self.generate}
        if self.by_id:
            found["by_series"] = self.generate_by_series
        return found

    def warmup_inputs(self):
        """Two windows at the training mean, a realistic level for every column (the first
        training value of each category; hourly timestamps from 2020-01-01)."""
        window = np.broadcast_to(self.mean, (2, self.lookback, self.num_inputs))
        inputs = {"history": window.tolist()}
        if self.vocabularies:
            first = [vocabulary[0] for vocabulary in self.vocabularies]
            inputs["categories"] = [[first] * self.lookback] * 2
        if self.calendar:
            start = 1_577_836_800  # 2020-01-01 00:00
            inputs["time"] = [[start + 3_600 * i for i in range(self.lookback + self.horizon)]
                              ] * 2
        warmup = {"serving_default": inputs}
        if self.by_id:
            warmup["by_series"] = {**inputs, "series_id": ["", ""]}
        return warmup
