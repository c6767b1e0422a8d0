"""Model-agnostic training and evaluation on tf.data batches: a task names its metric
(and, where its loss is a function of that metric, how), nothing here knows the task."""

import sys
import time

import keras
import tensorflow as tf

from rnn_pipeline.models.recurrence import set_training_recurrence
from rnn_pipeline.training.checkpoints import position_of
from rnn_pipeline.training.gradients import epoch_gradient_summary
from rnn_pipeline.training.precision import resolve_precision, training_precision, xla_for
from rnn_pipeline.training.schedules import make_schedule
from rnn_pipeline.training.state import ResetStates, reset_states
from rnn_pipeline.training.loop import TrainingLoop
from rnn_pipeline.training.stopping import make_early_stopping


def progress_verbosity():
    """Keras progress bars on a terminal, one line per epoch otherwise."""
    return 1 if sys.stdout.isatty() else 2


class EpochRecorder(keras.callbacks.Callback):
    """Collects per-epoch rows: learning rate (at the epoch's start), the train and valid
    figures of ``metric``, seconds, and the epoch's gradient means
    (`epoch_gradient_summary`).

    Args:
        metric: the Keras metric of the rows: "loss" (rows get ``*_loss``) or another one
            such as "accuracy" or "perplexity" (rows get ``*_loss`` and ``*_<metric>``).
        on_row: optional callable receiving each finished row.
        loss_of_metric: callable turning the metric's value into the row's ``*_loss``
            where the loss is a function of it (a language model: the log of the exact,
            token-weighted perplexity); None: Keras' ``loss``.
    """

    def __init__(self, metric="loss", on_row=None, loss_of_metric=None):
        super().__init__()
        self.metric = metric
        self.rows = []
        self.on_row = on_row
        self.loss_of_metric = loss_of_metric

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def get_state(self):
        return {"rows": self.rows, "learning_rate": getattr(self, "_lr", None),
                "seconds": time.perf_counter() - getattr(self, "_start", time.perf_counter())}

    def set_state(self, state):
        """The finished epochs' rows, and the epoch in progress (a resumed run)."""
        self.rows = list(state["rows"])
        self._lr, self._start = state["learning_rate"], time.perf_counter() - state["seconds"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1, "learning_rate": self._lr}
        for prefix, key in (("train", ""), ("valid", "val_")):
            if f"{key}{self.metric}" not in logs:
                continue
            value = float(logs[f"{key}{self.metric}"])
            if self.loss_of_metric is not None:
                row[f"{prefix}_loss"] = self.loss_of_metric(value)
            elif f"{key}loss" in logs:  # e.g. accuracy: the loss too
                row[f"{prefix}_loss"] = float(logs[f"{key}loss"])
            row[f"{prefix}_{self.metric}"] = value
        row["seconds"] = time.perf_counter() - self._start
        row.update(epoch_gradient_summary(self.model))
        self.rows.append(row)
        if self.on_row:
            self.on_row(row)


class ProgressLines(keras.callbacks.Callback):
    """Without a terminal (logs, CI), Keras prints one line per epoch; this adds a line
    every ``every`` share of an epoch: step, running loss/perplexity, speed and time left.

    Args:
        log: callable receiving each line.
        every: share of the epoch between lines.
    """

    def __init__(self, log, every=0.05):
        super().__init__()
        self.log, self.every = log, every

    def on_epoch_begin(self, epoch, logs=None):
        self.begin(f"epoch {epoch + 1}")

    def on_train_batch_end(self, batch, logs=None):
        self.step_done(batch, logs)

    def begin(self, what):
        """Starts counting the steps of ``what`` (the first words of its lines)."""
        self._what, self._start, self._next = what, time.perf_counter(), 1

    def step_done(self, batch, logs):
        """A line when step ``batch`` (0-based) completes the next share (not the last)."""
        steps = self.params.get("steps")
        shares = round(1 / self.every)  # whole shares, counted in integers
        if not steps or (batch + 1) * shares // steps < self._next or batch + 1 == steps:
            return
        self._next = (batch + 1) * shares // steps + 1
        elapsed = time.perf_counter() - self._start
        left = elapsed / (batch + 1) * (steps - batch - 1)
        figures = "  ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items())
        self.log(f"{self._what} step {batch + 1}/{steps} ({(batch + 1) / steps:.0%})"
                 f"  {figures}  {elapsed / (batch + 1):.2f} s/step, {left / 60:.1f} min left")


class EvaluationLines(ProgressLines):
    """The same lines while a split is evaluated (``Model.evaluate``), every ``every``
    share of it.

    Args:
        log: callable receiving each line.
        what: the first words of each line, e.g. "evaluating valid".
        every: share of the split between lines.
    """

    def __init__(self, log, what, every=0.2):
        super().__init__(log, every)
        self.what = what

    def on_test_begin(self, logs=None):
        self.begin(self.what)

    def on_test_batch_end(self, batch, logs=None):
        self.step_done(batch, logs)


def progress_callbacks(log, verbose):
    """`ProgressLines` when Keras prints one line per epoch (``verbose == 2``) and there is
    a ``log`` to write to; otherwise none."""
    return [ProgressLines(log)] if verbose == 2 and log is not None else []


def fit(model, train_data, valid_data, train_config, metric="loss", callbacks=(),
        verbose=None, log=None, strategy=None, checkpoints=None, resume=None, stop=None,
        on_epoch=None, direction="min", loss_of_metric=None):
    """Trains a compiled model (`TrainingLoop`): batches in the dataset's order; the state
    of stateful layers (truncated BPTT) is carried from batch to batch and reset at every
    epoch and evaluation.

    Args:
        model: a compiled Keras model.
        train_data: tf.data of (inputs, targets[, weights]).
        valid_data: the same for validation (monitored by the schedule).
        train_config: a `TrainConfig`.
        metric: the model's training figure (a Keras metric name: "loss", "accuracy",
            "perplexity", ...); the schedule and early stopping monitor its validation
            value (``"val_" + metric``).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity; default: progress bars on a terminal.
        log: callable for progress lines (without a terminal) and the early-stopping line.
        strategy: the `tf.distribute.Strategy` the model was built under (default: the
            current one).
        checkpoints: a `Checkpoints`, or None.
        resume: a checkpoint found by `find_checkpoint` to continue from, or None.
        stop: a `StopSignals`, or None.
        on_epoch: callable receiving the rows so far after every epoch, or None.
        direction: "min" or "max": whether a lower or a higher ``metric`` is better (the
            plateau schedule, early stopping and the epoch it keeps follow it).
        loss_of_metric: the rows' loss as a function of ``metric`` (`EpochRecorder`), or
            None for Keras' ``loss``.

    Returns:
        The `EpochRecorder` rows, one dict per epoch.
    """
    def publish(row):
        on_epoch(recorder.rows)

    recorder = EpochRecorder(metric, on_row=publish if on_epoch else None,
                             loss_of_metric=loss_of_metric)
    monitor = f"val_{metric}"
    verbose = progress_verbosity() if verbose is None else verbose
    reason = getattr(model, "cpu_float32_reason", lambda: None)()
    precision = resolve_precision(train_config.precision, log,
                                  cpu_float32_reason=reason if train_config.jit_compile else None)
    set_training_recurrence(model, train_config.recurrence)
    loop = TrainingLoop(
        model, strategy or tf.distribute.get_strategy(),
        [ResetStates(), *make_schedule(train_config, monitor, direction), recorder,
         *make_early_stopping(train_config, monitor, log, direction),
         *progress_callbacks(log, verbose),
         *callbacks],
        epochs=train_config.epochs, verbose=verbose, checkpoints=checkpoints, stop=stop,
        jit_compile=xla_for(precision, train_config.jit_compile, log))
    position = restore = None
    if resume is not None:
        position = position_of(resume[1])
        restore = lambda found_callbacks: checkpoints.restore(resume, found_callbacks)  # noqa
    with training_precision(model, precision):
        loop.fit(train_data, valid_data, position, restore)
    return recorder.rows


def evaluate(model, data, verbose=0, log=None, what=None):
    """The compiled metrics of a model over a split, starting from a zero state (stateful
    layers are reset before the split and at every epoch boundary Keras marks).

    Args:
        model: a compiled model.
        data: tf.data batches of the split.
        verbose: Keras verbosity.
        log: callable for progress lines (`EvaluationLines`), or None for none.
        what: the first words of those lines, e.g. "evaluating valid".

    Returns:
        {metric name: float}, as Keras' ``evaluate(return_dict=True)``.
    """
    reset_states(model)
    progress = [EvaluationLines(log, what or "evaluating")] if log is not None else []
    logs = model.evaluate(data, callbacks=[ResetStates(), *progress], return_dict=True,
                          verbose=verbose)
    return {name: float(value) for name, value in logs.items()}
