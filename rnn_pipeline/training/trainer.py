"""Model-agnostic training and evaluation on tf.data windows."""

import math
import sys
import time

import keras

from rnn_pipeline.training.gradients import epoch_gradient_summary
from rnn_pipeline.training.schedules import make_schedule
from rnn_pipeline.training.state import ResetStates, reset_states
from rnn_pipeline.training.stopping import make_early_stopping


def progress_verbosity():
    """Keras progress bars on a terminal, one line per epoch otherwise."""
    return 1 if sys.stdout.isatty() else 2


class EpochRecorder(keras.callbacks.Callback):
    """Collects per-epoch rows: learning rate (at the epoch's start), the train and valid
    figures of ``metric``, seconds, and the epoch's gradient means
    (`epoch_gradient_summary`).

    Args:
        metric: "perplexity" (rows get ``*_loss``, the mean NLL per token, and
            ``*_perplexity``) or "loss" (rows get ``*_loss``).
        on_row: optional callable receiving each finished row.
    """

    def __init__(self, metric="perplexity", on_row=None):
        super().__init__()
        self.metric = metric
        self.rows = []
        self.on_row = on_row

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1, "learning_rate": self._lr}
        for prefix, key in (("train", self.metric), ("valid", f"val_{self.metric}")):
            if key in logs:
                value = float(logs[key])
                if self.metric == "perplexity":
                    row[f"{prefix}_loss"] = math.log(value)
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
        self._epoch, self._start, self._next = epoch, time.perf_counter(), self.every

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps")
        if not steps or (batch + 1) / steps < self._next or batch + 1 == steps:
            return
        self._next += self.every
        elapsed = time.perf_counter() - self._start
        left = elapsed / (batch + 1) * (steps - batch - 1)
        figures = "  ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items())
        self.log(f"epoch {self._epoch + 1} step {batch + 1}/{steps} ({(batch + 1) / steps:.0%})"
                 f"  {figures}  {elapsed / (batch + 1):.2f} s/step, {left / 60:.1f} min left")


def progress_callbacks(log, verbose):
    """`ProgressLines` when Keras prints one line per epoch (``verbose == 2``) and there is
    a ``log`` to write to; otherwise none."""
    return [ProgressLines(log)] if verbose == 2 and log is not None else []


def fit(model, train_data, valid_data, train_config, metric="perplexity", callbacks=(),
        verbose=None, log=None):
    """Trains a compiled model with truncated BPTT: windows in order, state carried across
    consecutive windows and reset at every epoch and evaluation.

    Args:
        model: a compiled Keras model; its stateful layers carry state.
        train_data: tf.data of (inputs, targets, weights), in stream order.
        valid_data: the same for validation (monitored by the schedule).
        train_config: a `TrainConfig`.
        metric: the model's training figure, "perplexity" or "loss"; the schedule and
            early stopping monitor its validation value (``"val_" + metric``).
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity; default: progress bars on a terminal.
        log: callable for progress lines (without a terminal) and the early-stopping line.

    Returns:
        The `EpochRecorder` rows, one dict per epoch.
    """
    recorder = EpochRecorder(metric)
    monitor = f"val_{metric}"
    verbose = progress_verbosity() if verbose is None else verbose
    model.fit(
        train_data, validation_data=valid_data, epochs=train_config.epochs, shuffle=False,
        callbacks=[ResetStates(), *make_schedule(train_config, monitor), recorder,
                   *make_early_stopping(train_config, monitor, log),
                   *progress_callbacks(log, verbose),
                   *callbacks],
        verbose=verbose,
    )
    return recorder.rows


def evaluate(model, data, verbose=0):
    """Exact perplexity over a split, starting from a zero state.

    Returns:
        {"loss": mean NLL per token, "perplexity": exp(loss)}.
    """
    reset_states(model)
    logs = model.evaluate(data, callbacks=[ResetStates()], return_dict=True, verbose=verbose)
    perplexity = float(logs["perplexity"])
    return {"loss": math.log(perplexity), "perplexity": perplexity}
