"""What every task model shares: it owns its compile defaults, also after loading, and its
train step measures the gradients (see `rnn_pipeline.training.gradients`)."""

import keras
import tensorflow as tf

from rnn_pipeline.metrics import Perplexity
from rnn_pipeline.training.gradients import GradientMonitor


class PerExampleLoss(keras.losses.Loss):
    """A loss whose ``y_pred`` already is each example's loss (a sequence's NLL): Keras
    applies the sample weights, the reduction and the replica scaling as for its own."""

    def call(self, y_true, y_pred):
        return y_pred


class TaskSteps:
    """What every task model shares, as a mixin before `keras.Model` (`Task`,
    `SubclassedTask`): ``compile()`` without arguments uses the task's defaults.

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
        if tf.distribute.get_strategy().num_replicas_in_sync > 1:
            # `train_step` all-reduces the gradients itself, before clipping; Keras'
            # optimizer would sum them again and clip each replica's part on its own.
            self.optimizer._all_reduce_sum_gradients = list

    def compile_from_config(self, config):
        """A loaded model is compiled with the saved optimizer and the task's loss/metrics."""
        optimizer = keras.optimizers.deserialize(config["optimizer"]) if config.get(
            "optimizer") else "adam"
        self.compile(optimizer=optimizer)
        self.optimizer.build(self.trainable_variables)  # so its saved state loads

    def forward_loss(self, x, y, sample_weight=None, training=False):
        """The train step's forward pass: ``(loss, y_pred)``, where ``y_pred`` is what the
        compiled metrics read. Keras' own: the model's output and ``compute_loss``."""
        y_pred = self(x, training=training)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=training)
        return loss, y_pred

    def _track_loss(self, x, loss):
        """Adds this replica's ``loss`` to the "loss" metric, weighted by its batch."""
        batch = tf.shape(tf.nest.flatten(x)[0])[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for metric in self.metrics:
            if metric.name == "loss":  # Keras scales each replica's loss by 1/replicas
                metric.update_state(loss * replicas if replicas > 1 else loss,
                                    sample_weight=batch)

    def train_step(self, data):
        """Keras' train step, plus gradient statistics; a non-finite step is not applied.

        Adds ``grad_norm`` (epoch mean of the global norm before clipping) and ``clipped``
        (share of clipped steps) to the logs.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss, y_pred = self.forward_loss(x, y, sample_weight, training=True)
            scaled_loss = self.optimizer.scale_loss(loss)
        self._track_loss(x, loss)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        variables = self.trainable_weights
        gradients = tape.gradient(scaled_loss, variables)
        if replicas > 1:
            # Keras scales each replica's loss by 1/replicas: the sums are the global mean,
            # so the monitor and the optimizer's clipping see the one global gradient.
            context = tf.distribute.get_replica_context()
            gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
            loss = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        finite = self.gradient_monitor.observe(loss, gradients, variables)
        self.apply_if_finite(finite, gradients, variables)
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return {**logs, **self.gradient_monitor.logs()}

    def test_step(self, data):
        """Keras' test step through `forward_loss` (the adaptive head scores its targets
        without the (batch, time, vocab) tensor)."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss, y_pred = self.forward_loss(x, y, sample_weight, training=False)
        self._track_loss(x, loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def apply_if_finite(self, finite, gradients, variables):
        """Applies the step only when ``finite`` (the same on every replica).

        With several replicas on CPUs, ``optimizer.apply`` synchronizes the replicas with
        a ``merge_call``, which `tf.distribute` does not allow inside a ``tf.cond`` in a
        replica context; the condition is then taken in the cross-replica context, as
        Keras' `LossScaleOptimizer` does.
        """
        def apply():
            self.optimizer.apply(gradients, variables)
            return tf.constant(True)

        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            tf.cond(finite, apply, lambda: tf.constant(False))
            return

        def across_replicas(distribution, finite, gradients):
            def apply_on_every_replica():
                distribution.extended.call_for_each_replica(
                    lambda grads: self.optimizer.apply(grads, variables), args=(gradients,))
                return tf.constant(True)

            first = distribution.experimental_local_results(finite)[0]
            tf.cond(first, apply_on_every_replica, lambda: tf.constant(False))

        tf.distribute.get_replica_context().merge_call(across_replicas,
                                                       args=(finite, gradients))


class Task(TaskSteps, keras.Model):
    """A task model built as a functional graph (``super().__init__(inputs, outputs)``).

    Keras then puts `Functional` in place of `keras.Model` among this class's bases, so a
    task that subclasses `keras.Model` with its own ``call`` derives from `SubclassedTask`.
    """


class SubclassedTask(TaskSteps, keras.Model):
    """A task model with its own ``call`` (no functional graph): the tagger."""


class TokenTask(Task):
    """A task that predicts tokens: its compile defaults are cross-entropy on logits and
    exact perplexity (both honour sample weights, so padding counts for nothing)."""

    def compile(self, optimizer="adam", loss=None, weighted_metrics=None, **kwargs):
        """Args:
            optimizer: a Keras optimizer (instance or name).
            loss: defaults to sparse categorical cross-entropy from logits.
            weighted_metrics: defaults to `Perplexity`.
        """
        self.default_loss = loss is None  # a task may then compute it its own way
        super().compile(
            optimizer=optimizer,
            loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=weighted_metrics if weighted_metrics is not None else [Perplexity()],
            **kwargs)
