"""The one training loop of every task and every strategy.

It runs the model's own ``train_step`` (gradient monitor, clipping, the stateful
layers' carried state) through ``strategy.run`` and drives the Keras callbacks in the
order ``model.fit`` does: train begin, then per epoch: metrics reset, epoch begin, the
batches, the validation pass (test begin/end), epoch end; train end.

Keras' ``model.fit`` is not used because under ``tf.distribute.MultiWorkerMirroredStrategy``
it fails at the first step in Keras 3 ("Attempt to convert a value (PerReplica:...) with an
unsupported type"; keras-team/keras#20585, tensorflow/tensorflow#72388). One loop for
every strategy means one tested code path; the default strategy gives the losses of
``model.fit`` exactly (the figures pinned in tests/test_pinned_results.py before it).
"""

import dataclasses

import keras
import tensorflow as tf

from rnn_pipeline.distribute.strategies import distribute
from rnn_pipeline.errors import TrainingInterrupted


# A reshuffling dataset (forecast windows, sentence pairs) gives each new pass its own
# order. Keras' ``model.fit`` starts a pass at every epoch's end and another at the next
# epoch's start, so epoch e reads pass 2e; this loop does the same, so that runs trained
# before it are reproduced exactly, and a resumed run skips 2e passes.
PASSES_PER_EPOCH = 2


@dataclasses.dataclass
class Position:
    """Where training stands.

    Args:
        epoch: the epoch in progress (from 0).
        step: its batches already trained.
        global_step: training steps since the start of the run.
    """

    epoch: int = 0
    step: int = 0
    global_step: int = 0


def without_autotune(dataset):
    """``dataset`` with tf.data's autotuning off. On 2 cores its background tuning held the
    PTB-shaped step at 170 ms, against 105-119 ms without it, in whole rounds at a time
    (BENCHMARKS.md, issue 19); the elements and their order are the same."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def steps_per_epoch(dataset):
    """The batches of one pass over ``dataset`` (counted when tf.data cannot tell)."""
    count = int(dataset.cardinality())
    if count < 0:
        count = sum(1 for _ in dataset)
    return count


class TrainingLoop:
    """Trains a compiled `Task` under ``strategy``.

    Args:
        model: the compiled model (built inside ``strategy.scope()``).
        strategy: a `tf.distribute.Strategy`.
        callbacks: Keras callbacks.
        epochs: the last epoch to train (``model.fit``'s ``epochs``).
        verbose: Keras verbosity (0 silent, 1 progress bar, 2 one line per epoch).
        checkpoints: a `Checkpoints` (or None): written at epoch ends, every
            ``every_steps`` steps and every ``minutes`` of training.
        stop: a `StopSignals` (or None): SIGINT/SIGTERM checkpoint and stop.
        jit_compile: compile the whole train step with XLA (one replica only).
        metric, loss_of_metric: where the loss is a function of a metric (a token task:
            the log of its token-weighted perplexity), that metric's name and the function:
            every callback then gets that ``loss`` (and ``val_loss``), so the progress
            bar, the epoch rows and the curves show one loss. Keras' own ``loss`` averages
            the batches' losses, each over all its positions, padding included.
    """

    def __init__(self, model, strategy, callbacks, epochs, verbose=2, checkpoints=None,
                 stop=None, jit_compile=False, metric="loss", loss_of_metric=None):
        self.model, self.strategy, self.epochs = model, strategy, epochs
        self.jit_compile = jit_compile
        self.metric, self.loss_of_metric = metric, loss_of_metric
        self.callbacks, self.verbose = list(callbacks), verbose
        self.checkpoints, self.stop = checkpoints, stop
        self._trained_variables = None

    # --- compiled steps ---
    def _train_function(self):
        """The compiled train step, traced again when the trainable variables change (a
        layer frozen or thawed by a callback)."""
        trained = tuple(id(v) for v in self.model.trainable_variables)
        if trained != self._trained_variables:
            self._trained_variables = trained
            model, strategy = self.model, self.strategy
            model.gradient_monitor.dense_rows = self.jit_compile

            @tf.function(reduce_retracing=True, jit_compile=self.jit_compile)
            def train(batch):
                strategy.run(model.train_step, args=(batch,))
                return self._logs()

            self._train = train
        return self._train

    def _logs(self):
        """The metrics and gradient figures, read across every replica."""
        logs = self.model.get_metrics_result()
        return {**logs, **self.model.gradient_monitor.logs()}

    def _agreed(self, logs):
        """``logs`` with the loss that ``metric`` implies (see ``loss_of_metric``)."""
        if self.loss_of_metric is None or self.metric not in logs:
            return logs
        return {**logs, "loss": self.loss_of_metric(float(logs[self.metric]))}

    def _test_function(self):
        if not hasattr(self, "_test"):
            model, strategy = self.model, self.strategy

            @tf.function(reduce_retracing=True)
            def test(batch):
                strategy.run(model.test_step, args=(batch,))
                return model.get_metrics_result()

            self._test = test
        return self._test

    # --- the loop ---
    def fit(self, train_data, valid_data=None, position=None, restore=None):
        """Trains from ``position`` (default: the start) to ``epochs``.

        Args:
            train_data, valid_data: tf.data of global batches (x, y, weights).
            position: a `Position` to resume from.
            restore: callable ``restore(callbacks)`` that loads the checkpoint of
                ``position``: called before the epoch begins when the checkpoint was
                written at an epoch end (``position.step == 0``), after it otherwise.

        Returns:
            the last epoch's logs.
        """
        position = position or Position()
        steps = steps_per_epoch(train_data)
        train = distribute(self.strategy, without_autotune(train_data))
        valid = None if valid_data is None else distribute(self.strategy,
                                                           without_autotune(valid_data))
        callbacks = keras.callbacks.CallbackList(
            self.callbacks, add_history=True, add_progbar=self.verbose != 0,
            verbose=self.verbose, epochs=self.epochs, steps=steps, model=self.model)
        self.model.stop_training = False
        callbacks.on_train_begin()
        if restore is None and valid is not None:
            self._validate_start(valid, callbacks)
        for _ in range(PASSES_PER_EPOCH * position.epoch):
            iter(train)
        logs, first = {}, True
        for epoch in range(position.epoch, self.epochs):
            start = position.step if first else 0
            if first and restore is not None and start == 0:
                restore(callbacks.callbacks)
            self.model.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            if first and restore is not None and start > 0:
                restore(callbacks.callbacks)
            first = False
            logs = self._train_epoch(epoch, train, start, steps, callbacks, position)
            iter(train)  # see `PASSES_PER_EPOCH`
            if valid is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(valid, callbacks).items()})
            callbacks.on_epoch_end(epoch, logs)
            position.epoch, position.step = epoch + 1, 0
            signal_number = self.stop.received() if self.stop is not None else None
            if self.checkpoints is not None:
                self.checkpoints.save(position, callbacks.callbacks)
            if signal_number is not None and epoch + 1 < self.epochs:
                raise TrainingInterrupted(signal_number, position)
            if self.model.stop_training:
                break
        callbacks.on_train_end(logs)
        return logs

    def _validate_start(self, valid, callbacks):
        """Gives the starting weights' validation logs to the callbacks that keep the best
        weights (``start_from``), so that epoch 0 competes with the trained epochs."""
        keepers = [c for c in callbacks.callbacks if hasattr(c, "start_from")]
        if keepers:
            logs = {f"val_{k}": v for k, v in self.evaluate(valid, callbacks).items()}
            for keeper in keepers:
                keeper.start_from(logs)

    def _train_epoch(self, epoch, train, start, steps, callbacks, position):
        """One epoch's batches from batch ``start``; returns its logs."""
        iterator = iter(train)
        for _ in range(start):
            next(iterator)
        logs = {}
        for step in range(start, steps):
            callbacks.on_train_batch_begin(step)
            logs = self._agreed(self._train_function()(next(iterator)))
            callbacks.on_train_batch_end(step, logs)
            position.step, position.global_step = step + 1, position.global_step + 1
            if self.model.stop_training:
                break
            if step + 1 < steps:
                self._between_steps(position, callbacks)
        return self._agreed({k: float(v) for k, v in self._logs().items()})

    def _between_steps(self, position, callbacks):
        """A due or requested checkpoint within an epoch; stops on SIGINT/SIGTERM."""
        signal_number = self.stop.received() if self.stop is not None else None
        if self.checkpoints is not None and (
                signal_number is not None or self.checkpoints.due(position.global_step)):
            self.checkpoints.save(position, callbacks.callbacks)
        if signal_number is not None:
            raise TrainingInterrupted(signal_number, position)

    def evaluate(self, data, callbacks):
        """One pass over distributed ``data`` with the test callbacks; returns the logs."""
        self.model.reset_metrics()
        callbacks.on_test_begin()
        test = self._test_function()
        logs = {}
        for step, batch in enumerate(data):
            callbacks.on_test_batch_begin(step)
            logs = self._agreed(test(batch))
            callbacks.on_test_batch_end(step, logs)
        logs = self._agreed({k: float(v) for k, v in self.model.get_metrics_result().items()})
        callbacks.on_test_end(logs)
        return logs
