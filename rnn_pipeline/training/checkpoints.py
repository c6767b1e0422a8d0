"""Checkpoints of a training run in ``<run>/checkpoints/``, and resuming from them.

TensorFlow's `tf.train.Checkpoint` / `tf.train.CheckpointManager` hold the variables:
the model's weights (dropout seed states included), the optimizer's slots, iterations and
learning rate, the metrics' running sums, the gradient monitor's counters and the
stateful layers' carried state. TensorFlow writes each checkpoint's files under temporary
names, renames them, and only then points its ``checkpoint`` state file at them. Beside
each one, ``ckpt-N.json`` (written to a temporary name, then renamed) holds what
TensorFlow does not: the position (epoch, step, global step), the callbacks' state
(plateau, early stopping, warmup, the per-epoch rows) and the format version;
``ckpt-N.best.npz`` holds early stopping's best weights. A checkpoint counts only when
both are complete, so a kill during a write leaves the previous one in use. The last 2
are kept.

Under a multi-worker strategy every worker saves (some variables are read with
collective ops); only the chief writes into the run folder, the others into a temporary
folder that is removed again (Keras' multi-worker saving rule).
"""

import json
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline.atomic import atomic_write
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.training.loop import Position

FORMAT = 1  # the sidecar layout; another number is a run of an incompatible version
KEEP = 2
KERAS_STATE = ((keras.callbacks.EarlyStopping, ("wait", "best", "best_epoch", "stopped_epoch")),
               (keras.callbacks.ReduceLROnPlateau, ("wait", "best", "cooldown_counter")))


def callback_keys(callbacks):
    """A stable key per callback: class name and its occurrence, e.g. "Warmup#0"."""
    seen, keys = {}, []
    for callback in callbacks:
        name = type(callback).__name__
        keys.append(f"{name}#{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    return keys


def callback_state(callback):
    """The JSON state of a callback (its ``get_state()``, or Keras' counters), or None."""
    if hasattr(callback, "get_state"):
        return callback.get_state()
    for cls, names in KERAS_STATE:
        if isinstance(callback, cls):
            return {name: getattr(callback, name) for name in names}
    return None


def set_callback_state(callback, state):
    if hasattr(callback, "set_state"):
        callback.set_state(state)
        return
    for name, value in state.items():
        setattr(callback, name, value)


def save_arrays(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class Checkpoints:
    """Writes and restores the checkpoints of one run.

    Args:
        directory: ``<run>/checkpoints``.
        model: the compiled model, its optimizer and metrics built.
        carried: its `CarriedState`.
        chief: whether this process writes ``directory`` (else a temporary folder).
        every_steps: also save every this many global steps (None: not by steps).
        minutes: minutes of training between timed checkpoints.
        agree: callable(flag) -> flag, the same on every worker (any worker's True).
        log: callable given one short line per checkpoint written (None: silent).
    """

    def __init__(self, directory, model, carried, chief=True, every_steps=None, minutes=10.0,
                 agree=bool, log=None):
        self.directory, self.chief, self.carried = Path(directory), chief, carried
        self.log = log
        self.every_steps, self.seconds, self.agree = every_steps, minutes * 60.0, agree
        self.checkpoint = tf.train.Checkpoint(
            model=list(model.variables), optimizer=list(model.optimizer.variables),
            metrics=[v for metric in model.metrics for v in metric.variables],
            monitor=model.gradient_monitor.variables, carried_state=carried.variables)
        self._write_dir = self.directory if chief else Path(tempfile.mkdtemp(prefix="ckpt-"))
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self._write_dir),
                                                  max_to_keep=KEEP, checkpoint_name="ckpt")
        self._last = time.monotonic()

    def due(self, global_step):
        """Whether a checkpoint is due after ``global_step`` (the same on every worker)."""
        by_steps = bool(self.every_steps) and global_step % self.every_steps == 0
        return self.agree(by_steps or time.monotonic() - self._last >= self.seconds)

    def save(self, position, callbacks):
        """Saves the variables, then the sidecar files (chief only)."""
        self.carried.before_save()
        self._write_dir.mkdir(parents=True, exist_ok=True)
        path = Path(self.manager.save(checkpoint_number=position.global_step))
        self._last = time.monotonic()
        if not self.chief:
            return
        states, arrays = {}, {}
        for key, callback in zip(callback_keys(callbacks), callbacks):
            if hasattr(callback, "flush"):
                callback.flush()
            state = callback_state(callback)
            if state is None:
                continue
            weights = getattr(callback, "best_weights", None)
            if weights is not None:
                arrays = {f"{key}/{i}": np.asarray(w) for i, w in enumerate(weights)}
            states[key] = state
        if arrays:
            atomic_write(path.with_suffix(".best.npz"), lambda p: save_arrays(p, arrays))
        sidecar = {"format": FORMAT, "position": vars(position), "callbacks": states,
                   "best_weights": sorted(arrays)}
        self.write_sidecar(path, sidecar)
        self._remove_stale()
        if self.log is not None:
            where = (f"end of epoch {position.epoch}" if position.step == 0 else
                     f"epoch {position.epoch + 1}, step {position.step}")
            self.log(f"Checkpoint {path.name} written ({where}) in {self.directory}")

    def write_sidecar(self, path, sidecar):
        """Writes ``ckpt-N.json``: from then on checkpoint ``path`` counts."""
        text = json.dumps(sidecar, indent=1)
        atomic_write(path.with_suffix(".json"), lambda p: Path(p).write_text(text, "utf-8"))

    def _remove_stale(self):
        kept = {Path(p).name for p in self.manager.checkpoints}
        for extra in self.directory.glob("ckpt-*.*"):
            if extra.suffix in (".json", ".npz") and extra.name.split(".")[0] not in kept:
                extra.unlink(missing_ok=True)

    def close(self):
        """Removes a worker's temporary folder."""
        if not self.chief:
            shutil.rmtree(self._write_dir, ignore_errors=True)

    # --- resuming ---
    def check(self, found, run):
        """Restores checkpoint ``found`` once, to check that it fits this model; a mismatch
        is one line (a run of an incompatible version)."""
        path, _ = found
        try:
            self.checkpoint.restore(str(path)).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as exc:
            reason = str(exc).strip().splitlines()[0][:200]
            raise pipeline_error("--resume", f"needs a checkpoint of the model in the run's "
                                 f"config, but {path} does not match it: it was made by an "
                                 f"incompatible version of rnn-pipeline ({reason})",
                                 str(run)) from None

    def restore(self, found, callbacks):
        """Loads checkpoint ``found`` (from `find_checkpoint`) into the variables and
        ``callbacks``."""
        path, sidecar = found
        self.checkpoint.restore(str(path)).assert_existing_objects_matched()
        self.carried.after_restore()
        arrays = np.load(path.with_suffix(".best.npz")) if sidecar["best_weights"] else {}
        for key, callback in zip(callback_keys(callbacks), callbacks):
            if key in sidecar["callbacks"]:
                set_callback_state(callback, sidecar["callbacks"][key])
            names = sorted((n for n in sidecar["best_weights"] if n.startswith(f"{key}/")),
                           key=lambda n: int(n.rsplit("/", 1)[1]))
            if names:
                callback.best_weights = [arrays[n] for n in names]


def latest_complete(directory):
    """The path prefix of the newest checkpoint in ``directory`` with its sidecar, or None."""
    directory = Path(directory)
    state = tf.train.get_checkpoint_state(str(directory)) if directory.is_dir() else None
    paths = [Path(p) for p in (state.all_model_checkpoint_paths if state else [])]
    complete = [p for p in paths if p.with_suffix(".json").is_file()]
    return directory / complete[-1].name if complete else None


def find_checkpoint(directory, run):
    """The newest complete checkpoint of a run: (its path prefix, its sidecar dict).

    Every problem is one line naming the run or the file: no checkpoint, a sidecar of
    another format (a run of an incompatible version), a truncated or damaged file.
    """
    path = latest_complete(directory)
    if path is None:
        raise pipeline_error("--resume", "must be a run folder with a checkpoint in "
                             "checkpoints/ (the run stopped before its first one)", str(run))
    sidecar_file = path.with_suffix(".json")
    try:
        sidecar = json.loads(sidecar_file.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        raise pipeline_error("--resume", f"needs a readable checkpoint, but {sidecar_file} is "
                             f"truncated or damaged", str(run)) from None
    if sidecar.get("format") != FORMAT:
        raise pipeline_error("--resume", f"needs a checkpoint of format {FORMAT}, but "
                             f"{sidecar_file} has format {sidecar.get('format')!r}: the run was "
                             f"made by an incompatible version of rnn-pipeline", str(run))
    verify(path, run)
    return path, sidecar


def verify(path, run):
    """Reads every tensor of checkpoint ``path`` (TensorFlow checks each one's CRC)."""
    files = sorted(path.parent.glob(f"{path.name}.*"))
    try:
        reader = tf.train.load_checkpoint(str(path))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as exc:
        names = ", ".join(str(f) for f in files)
        raise pipeline_error("--resume", f"needs a readable checkpoint, but {names} is "
                             f"truncated or damaged ({type(exc).__name__})", str(run)) from None


def position_of(sidecar):
    return Position(**sidecar["position"])
