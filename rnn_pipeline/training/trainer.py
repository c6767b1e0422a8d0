"""Model-agnostic training and evaluation on tf.data batches: a task names its metric
(and, where its loss is a function of that metric, how), nothing here knows the task."""

import sys
import time

import keras
import tensorflow as tf

from rnn_pipeline.models.recurrence import set_training_recurrence
from rnn_pipeline.progress import RunClock, clock_time
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
    figures of ``metric`` and the loss (the one every callback sees: `TrainingLoop`'s
    ``loss_of_metric``), seconds, and the epoch's gradient means (`epoch_gradient_summary`).

    Args:
        metric: the Keras metric of the rows: "loss" (rows get ``*_loss``) or another one
            such as "accuracy" or "perplexity" (rows get ``*_loss`` and ``*_<metric>``).
        on_row: optional callable receiving each finished row.
    """

    def __init__(self, metric="loss", on_row=None):
        super().__init__()
        self.metric = metric
        self.rows = []
        self.on_row = on_row

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
            if f"{key}loss" in logs:
                row[f"{prefix}_loss"] = float(logs[f"{key}loss"])
            row[f"{prefix}_{self.metric}"] = float(logs[f"{key}{self.metric}"])
        row["seconds"] = time.perf_counter() - self._start
        row.update(epoch_gradient_summary(self.model))
        self.rows.append(row)
        if self.on_row:
            self.on_row(row)


class ProgressLines(keras.callbacks.Callback):
    """Progress lines with time estimates (`RunClock`): as each epoch after the first
    begins, the run's ETA; and with ``within_epochs`` (no terminal: Keras prints one line
    per epoch) a line every ``every`` share of an epoch: the epoch of all, the step, the
    running figures, the speed, the epoch's time left and the run's ETA.

    Args:
        log: callable receiving each line.
        every: share of the epoch between lines.
        within_epochs: the lines within an epoch too (on a terminal Keras' bar shows it).
    """

    eta = "run ETA"  # how the lines name the time left of the whole run

    def __init__(self, log, every=0.05, within_epochs=True):
        super().__init__()
        self.log, self.every, self.within_epochs = log, every, within_epochs
        self.clock = None

    def on_train_begin(self, logs=None):
        self.clock = RunClock(self.params.get("epochs") or 1)

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs") or 1
        self.clock.begin(epoch)
        left = self.clock.left_at_begin(self.params.get("steps") or 0)
        if left is not None:
            self.log(f"{self.eta} {clock_time(left)}: epoch {epoch + 1}/{epochs} begins "
                     f"({epochs - epoch} to go)")
        self._what, self._next = f"epoch {epoch + 1}/{epochs}", 1

    def on_train_batch_end(self, batch, logs=None):
        self.step_done(batch, logs)

    def step_done(self, batch, logs, whole_run=True):
        """Times step ``batch`` (0-based); a line when it completes the next share of the
        part (not the last step), with the whole run's ETA when ``whole_run``."""
        steps = self.params.get("steps")
        self.clock.step(batch + 1)
        shares = round(1 / self.every)  # whole shares, counted in integers
        if (not self.within_epochs or not steps or batch + 1 == steps
                or (batch + 1) * shares // steps < self._next):
            return
        self._next = (batch + 1) * shares // steps + 1
        part, run = self.clock.left(batch + 1, steps)
        figures = "  ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items())
        self.log(f"{self._what} step {batch + 1}/{steps} ({(batch + 1) / steps:.0%})"
                 f"  {figures}  {self.clock.seconds_per_step(batch + 1):.2f} s/step, "
                 f"{part / 60:.1f} min left" + (f", {self.eta} {clock_time(run)}"
                                                if whole_run else ""))


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
        self.clock, self._what, self._next = RunClock(1), self.what, 1
        self.clock.begin(0)

    def on_test_batch_end(self, batch, logs=None):
        self.step_done(batch, logs, whole_run=False)


def progress_callbacks(log, verbose):
    """`ProgressLines` where there is a ``log`` and Keras prints progress: every share of
    an epoch when Keras prints one line per epoch (``verbose == 2``), else at epoch starts
    only (its bar shows the steps)."""
    if log is None or verbose == 0:
        return []
    return [ProgressLines(log, within_epochs=verbose == 2)]


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
        loss_of_metric: the loss as a function of ``metric`` (a token task's: the log of
            its perplexity), which the progress lines, the rows and every callback then
            show (`TrainingLoop`); None: Keras' ``loss``.

    Returns:
        The `EpochRecorder` rows, one dict per epoch.
    """
    def publish(row):
        on_epoch(recorder.rows)

    recorder = EpochRecorder(metric, on_row=publish if on_epoch else None)
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
        jit_compile=xla_for(precision, train_config.jit_compile, log), metric=metric,
        loss_of_metric=loss_of_metric)
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
