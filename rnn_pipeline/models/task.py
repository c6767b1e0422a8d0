"""What every task model shares: it owns its compile defaults, also after loading, and its
train step measures the gradients (see `rnn_pipeline.training.gradients`)."""

import keras
import tensorflow as tf

from rnn_pipeline.metrics import Perplexity
from rnn_pipeline.training.gradients import GradientMonitor


class Task(keras.Model):
    """A keras-hub style task: ``compile()`` without arguments uses the task's defaults.

    One config style for every task: a subclass stores its plain constructor arguments
    in ``self.task_config`` (a dict); ``nested_objects`` names the arguments that hold
    Keras objects (backbone, preprocessors), serialized when set.
    """

    nested_objects = ()

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, **self.task_config}
        for key in self.nested_objects:
            if getattr(self, key, None) is not None:
                config[key] = keras.saving.serialize_keras_object(getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.nested_objects:
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def compile(self, *args, **kwargs):
        """Keras ``compile``; also sets up the `GradientMonitor` of the train step."""
        super().compile(*args, **kwargs)
        self.gradient_monitor = GradientMonitor(self, self.optimizer)

    def compile_from_config(self, config):
        """A loaded model is compiled with the saved optimizer and the task's loss/metrics."""
        optimizer = keras.optimizers.deserialize(config["optimizer"]) if config.get(
            "optimizer") else "adam"
        self.compile(optimizer=optimizer)
        self.optimizer.build(self.trainable_variables)  # so its saved state loads

    def train_step(self, data):
        """Keras' train step, plus gradient statistics; a non-finite step is not applied.

        Adds ``grad_norm`` (epoch mean of the global norm before clipping) and ``clipped``
        (share of clipped steps) to the logs.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            scaled_loss = self.optimizer.scale_loss(loss)
        batch = tf.shape(tf.nest.flatten(x)[0])[0]
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=batch)
        variables = self.trainable_weights
        gradients = tape.gradient(scaled_loss, variables)
        finite = self.gradient_monitor.observe(loss, gradients, variables)

        def apply():
            self.optimizer.apply(gradients, variables)
            return tf.constant(True)

        tf.cond(finite, apply, lambda: tf.constant(False))
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return {**logs, **self.gradient_monitor.logs()}


class TokenTask(Task):
    """A task that predicts tokens: its compile defaults are cross-entropy on logits and
    exact perplexity (both honour sample weights, so padding counts for nothing)."""

    def compile(self, optimizer="adam", loss=None, weighted_metrics=None, **kwargs):
        """Args:
            optimizer: a Keras optimizer (instance or name).
            loss: defaults to sparse categorical cross-entropy from logits.
            weighted_metrics: defaults to `Perplexity`.
        """
        super().compile(
            optimizer=optimizer,
            loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=weighted_metrics if weighted_metrics is not None else [Perplexity()],
            **kwargs)
