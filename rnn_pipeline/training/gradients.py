"""Gradient statistics of every training step, and a stop at the first non-finite one.

Every `Task` measures its gradients in its train step, before the optimizer clips them:

* the global norm ``sqrt(sum_i ||g_i||^2)``: what ``global_clipnorm`` (and torch's
  ``clip_grad_norm_``) compares with its threshold;
* one norm per layer (all variables of the layer together);
* whether the optimizer clips this step: with ``global_clipnorm`` when the global norm
  exceeds it, with ``clipnorm`` (per variable) when any one variable's norm exceeds it;
* whether the loss, every gradient and the norms are finite. A non-finite step is not
  applied, so the weights stay those of the last good step. Finite gradients whose norm
  overflows float32 count as non-finite: clipping divides by that norm, and Keras'
  global clipping then turns every weight into NaN.

`GradientLog` writes the figures of every step to a CSV file and TensorBoard, resets the
epoch means, and stops training at the first non-finite step.
"""

import csv
import math
import os

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import TrainingDiverged  # noqa: F401  (raised here, caught by the CLI)
from rnn_pipeline.training.scalar_events import ScalarEvents


def layer_of(variable):
    """The name of the layer that owns ``variable`` (the first part of its path)."""
    return variable.path.split("/")[0]


def summed_values(gradient, dense_rows=False):
    """The gradient's nonzero entries as float32, without densifying a sparse gradient.

    An embedding's gradient is ``tf.IndexedSlices`` whose rows may repeat (a word seen
    twice in the batch); rows of the same index are summed, so the norm is that of the
    dense gradient without building the (vocabulary, dim) tensor. With ``dense_rows``
    (under XLA, where ``tf.unique``'s data-dependent shape halves the speed of the whole
    step) the dense tensor is built instead: the same sums.
    """
    if isinstance(gradient, tf.IndexedSlices) and dense_rows:
        return tf.cast(tf.convert_to_tensor(gradient), tf.float32)
    if isinstance(gradient, tf.IndexedSlices):
        rows, position = tf.unique(gradient.indices)
        values = tf.math.unsorted_segment_sum(gradient.values, position, tf.size(rows))
        return tf.cast(values, tf.float32)  # (distinct rows, dim)
    return tf.cast(gradient, tf.float32)


class GradientMonitor:
    """Measures the gradients of each step inside the compiled train step.

    Args:
        model: the model; its layers with trainable variables are the rows of
            ``layer_names`` (a layer frozen for a while reports norm 0).
        optimizer: the Keras optimizer, for its ``clipnorm`` / ``global_clipnorm``.
    """

    dense_rows = False  # set for an XLA-compiled step (see `summed_values`)

    def __init__(self, model, optimizer):
        self.layer_names = list(dict.fromkeys(layer_of(v) for v in model.weights if v.trainable))
        self.clipnorm = getattr(optimizer, "clipnorm", None)
        self.global_clipnorm = getattr(optimizer, "global_clipnorm", None)
        layers = len(self.layer_names)

        def variable(value):
            # Every replica assigns the same (all-reduced) figures: keep the first's.
            return tf.Variable(value, trainable=False,
                               aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

        # The last step, read by `GradientLog` after every batch.
        self.loss = variable(0.0)
        self.norm = variable(0.0)
        self.layer_norms = variable(tf.zeros(layers))
        self.clipped = variable(False)
        self.finite = variable(True)
        self.nonfinite_layers = variable(tf.zeros(layers, tf.bool))
        # Sums over the finite steps of the epoch (reset by `reset`).
        self.steps = variable(0.0)
        self.norm_sum = variable(0.0)
        self.clipped_sum = variable(0.0)
        self.layer_norm_sums = variable(tf.zeros(layers))

    @property
    def variables(self):
        """Every counter, for checkpoints."""
        return [self.loss, self.norm, self.layer_norms, self.clipped, self.finite,
                self.nonfinite_layers, self.steps, self.norm_sum, self.clipped_sum,
                self.layer_norm_sums]

    def observe(self, loss, gradients, variables):
        """Records one step (in graph).

        Args:
            loss: the scalar loss.
            gradients: the gradients, one per variable (before clipping).
            variables: the trainable variables.

        Returns:
            a boolean tensor: True when the loss, all gradients and their norms are finite.
        """
        index = {name: i for i, name in enumerate(self.layer_names)}
        layer_ids = tf.constant([index[layer_of(v)] for v in variables], tf.int32)
        values = [summed_values(g, self.dense_rows) for g in gradients]
        squares = tf.stack([tf.reduce_sum(tf.square(v)) for v in values])  # (variables,)
        # A NaN or inf entry makes its sum of squares NaN or inf: one pass tells both.
        bad = tf.logical_not(tf.math.is_finite(squares))
        layers = len(self.layer_names)
        layer_norms = tf.sqrt(tf.math.unsorted_segment_sum(squares, layer_ids, layers))
        nonfinite_layers = tf.math.unsorted_segment_max(tf.cast(bad, tf.int32), layer_ids,
                                                        layers) > 0
        norm = tf.sqrt(tf.reduce_sum(squares))
        if self.global_clipnorm:
            clipped = norm > self.global_clipnorm
        elif self.clipnorm:
            clipped = tf.reduce_any(tf.sqrt(squares) > self.clipnorm)
        else:
            clipped = tf.constant(False)
        loss = tf.cast(loss, tf.float32)
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
        finite = tf.logical_and(finite, tf.logical_not(tf.reduce_any(bad)))
        self.loss.assign(loss)
        self.norm.assign(norm)
        self.layer_norms.assign(layer_norms)
        self.clipped.assign(clipped)
        self.finite.assign(finite)
        self.nonfinite_layers.assign(nonfinite_layers)
        weight = tf.cast(finite, tf.float32)
        self.steps.assign_add(weight)
        self.norm_sum.assign_add(tf.where(finite, norm, 0.0))
        self.clipped_sum.assign_add(weight * tf.cast(clipped, tf.float32))
        self.layer_norm_sums.assign_add(tf.where(finite, layer_norms, 0.0))
        return finite

    def logs(self):
        """Epoch means so far (in graph): ``grad_norm`` and ``clipped`` (share of steps)."""
        steps = tf.maximum(self.steps, 1.0)
        return {"grad_norm": self.norm_sum / steps, "clipped": self.clipped_sum / steps}

    def epoch_summary(self):
        """The epoch means as a flat dict (NumPy floats) for the metrics rows."""
        logs = self.logs()
        steps = max(float(self.steps.numpy()), 1.0)
        summary = {"grad_norm": float(logs["grad_norm"]), "clipped_share": float(logs["clipped"])}
        for name, total in zip(self.layer_names, self.layer_norm_sums.numpy()):
            summary[f"grad_norm_{name}"] = float(total) / steps
        return summary

    def reset(self):
        for variable in (self.steps, self.norm_sum, self.clipped_sum):
            variable.assign(0.0)
        self.layer_norm_sums.assign(tf.zeros(len(self.layer_names)))


class GradientLog(keras.callbacks.Callback):
    """Per-step gradient figures to CSV and TensorBoard; stops at a non-finite step.

    Args:
        csv_path: the per-step CSV file (step, epoch, batch, loss, grad_norm, clipped,
            finite, one ``grad_norm_<layer>`` column per layer), or None.
        tensorboard_dir: folder for per-step TensorBoard scalars, or None.
        last_good_path: where the weights are saved when training stops on a non-finite
            step (a ``.weights.h5`` file), or None.
        append: continue an existing CSV (a resumed run): `set_state` keeps its rows up to
            the checkpoint's step.
    """

    def __init__(self, csv_path=None, tensorboard_dir=None, last_good_path=None, append=False):
        super().__init__()
        self.csv_path, self.tensorboard_dir = csv_path, tensorboard_dir
        self.last_good_path, self.append = last_good_path, append
        self.failure = None
        self._step = 0

    def get_state(self):
        return {"step": self._step}

    def flush(self):
        """Writes the buffered rows (before a checkpoint, so a kill loses none of them)."""
        if self._file is not None:
            self._file.flush()
        if getattr(self, "_writer", None) is not None:
            self._writer.flush()

    def set_state(self, state):
        """Continues after step ``state["step"]``: later rows of the CSV (trained after the
        checkpoint, trained again now) are dropped."""
        self._step = state["step"]
        if self._file is None:
            return
        self._file.close()
        with open(self.csv_path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= self._step]
        with open(self.csv_path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(kept)
        self._file = open(self.csv_path, "a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)

    @property
    def monitor(self):
        return self.model.gradient_monitor

    def on_train_begin(self, logs=None):
        self._step, self._file, self._writer = 0, None, None
        names = self.monitor.layer_names
        if self.csv_path is not None:
            header = not (self.append and os.path.isfile(self.csv_path))
            self._file = open(self.csv_path, "w" if header else "a", newline="",
                              encoding="utf-8")
            self._csv = csv.writer(self._file)
            if header:
                self._csv.writerow(["step", "epoch", "batch", "loss", "grad_norm", "clipped",
                                    "finite", *(f"grad_norm_{name}" for name in names)])
        if self.tensorboard_dir is not None:
            self._writer = ScalarEvents(self.tensorboard_dir)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self.monitor.reset()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        monitor = self.monitor
        loss, norm = float(monitor.loss.numpy()), float(monitor.norm.numpy())
        clipped, finite = bool(monitor.clipped.numpy()), bool(monitor.finite.numpy())
        layer_norms = monitor.layer_norms.numpy()
        if self._file is not None:
            self._csv.writerow([self._step, self._epoch + 1, batch + 1, f"{loss:.6g}",
                                f"{norm:.6g}", int(clipped), int(finite),
                                *(f"{value:.6g}" for value in layer_norms)])
        if self._writer is not None:
            self._writer.write(self._step, {
                "gradients/global_norm": norm, "gradients/clipped": float(clipped),
                **{f"gradients/{name}": value
                   for name, value in zip(monitor.layer_names, layer_norms)}})
        if not finite:
            self._stop(batch, loss, norm, monitor)

    def _stop(self, batch, loss, norm, monitor):
        """Stops training and names the step, the layers and the saved weights."""
        self.model.stop_training = True
        bad = [name for name, flag in zip(monitor.layer_names, monitor.nonfinite_layers.numpy())
               if flag]
        if bad:
            where = (f"the gradients of {', '.join(reversed(bad))} are not finite or their "
                     f"norm overflows float32 (nearest the loss first)")
        elif not math.isfinite(norm):
            where = "the global gradient norm overflows float32"
        else:
            where = "all gradients are finite"
        saved = ""
        if self.last_good_path is not None:
            self.model.save_weights(self.last_good_path)
            saved = (f"; the last good weights (after step {self._step - 1}) are saved as "
                     f"{self.last_good_path}")
        loss_text = "finite" if math.isfinite(loss) else f"{loss}"
        self.failure = (f"Training stopped at step {self._step} (epoch {self._epoch + 1}, batch "
                        f"{batch + 1}): the loss is {loss_text} and {where}. The step was not "
                        f"applied{saved}. Lower train.learning_rate or set train.clipnorm / "
                        f"train.global_clipnorm.")

    def close(self):
        """Closes the CSV and TensorBoard files (again: a no-op). Keras skips
        ``on_train_end`` when training raises, so `Workflow.fit` also calls it."""
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None
        if getattr(self, "_writer", None) is not None:
            self._writer.close()
            self._writer = None

    def on_train_end(self, logs=None):
        self.close()
        if self.failure is not None:
            raise TrainingDiverged(self.failure)


def epoch_gradient_summary(model):
    """The epoch's gradient means of a `Task` (empty for a model without a monitor)."""
    monitor = getattr(model, "gradient_monitor", None)
    return monitor.epoch_summary() if monitor is not None else {}


def read_gradient_log(path):
    """A per-step CSV written by `GradientLog` as a dict of NumPy columns."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}
