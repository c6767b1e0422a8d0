"""The carried state of stateful recurrent layers, per replica, and in checkpoints.

Keras creates a stateful layer's state as one mirrored variable, which every replica
would have to assign the same value. Under a strategy with several replicas each replica
carries the state of its own rows, so the state becomes an on-read (per-replica)
variable of the per-replica batch. A checkpoint holds the state of every row: the
replicas' parts are gathered (in replica order, the order of the rows) into variables of
the global batch before a save and cut back into the replicas' parts after a restore.
"""

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline.models.stateful import recurrent_layers


def per_replica_states(model):
    """Gives every stateful recurrent layer of ``model`` per-replica state variables
    (call inside the strategy's scope, after the model is built)."""
    for layer in recurrent_layers(model):
        states = [keras.Variable(np.zeros(v.shape, v.dtype), trainable=False, name="rnn_state",
                                 synchronization="on_read", aggregation="only_first_replica")
                  for v in layer.states]
        object.__setattr__(layer, "states", states)  # untracked, as Keras' own states


class CarriedState:
    """The stateful layers' state as checkpoint variables.

    Args:
        model: the model (built under ``strategy``).
        strategy: its `tf.distribute.Strategy`.
    """

    def __init__(self, model, strategy):
        self.strategy = strategy
        self.states = [v for layer in recurrent_layers(model) for v in layer.states]
        replicas = strategy.num_replicas_in_sync
        if replicas == 1:
            self.variables = self.states
            return
        # Created outside the strategy's scope: plain variables of this process.
        self.variables = [tf.Variable(tf.zeros([v.shape[0] * replicas, *v.shape[1:]], v.dtype),
                                      trainable=False) for v in self.states]

    def before_save(self):
        """Gathers every replica's rows into `variables` (all workers together)."""
        if self.variables is self.states:
            return
        for full, value in zip(self.variables, self._gather()):
            full.assign(value)

    @tf.function
    def _gather(self):
        local = self.strategy.run(lambda: [tf.identity(v.value) for v in self.states])
        return [self.strategy.gather(part, axis=0) for part in local]

    def after_restore(self):
        """Cuts the restored rows back into the replicas' states."""
        if self.variables is not self.states:
            self._scatter()

    @tf.function
    def _scatter(self):
        def assign():
            index = tf.distribute.get_replica_context().replica_id_in_sync_group
            for state, full in zip(self.states, self.variables):
                rows = state.shape[0]
                state.assign(full[index * rows:(index + 1) * rows])

        self.strategy.run(assign)
