"""Learning-rate schedules by name (one registry), as Keras callbacks."""

import math

import keras

from rnn_pipeline.choices import SCHEDULES
from rnn_pipeline.errors import pipeline_error

DIRECTIONS = ("min", "max")


def check_direction(mode):
    """``mode`` if it is "min" or "max" (a task's declared direction), else an error."""
    if mode not in DIRECTIONS:
        raise pipeline_error("direction", "must be 'min' (a loss, perplexity) or 'max' (an "
                             "accuracy, F1)", mode)
    return mode


@SCHEDULES.register("constant")
def constant(train_config, monitor, mode="min"):
    return []


@SCHEDULES.register("step")
def step(train_config, monitor, mode="min"):
    """``decay_start`` epochs at the initial rate, then times ``decay_factor`` every epoch
    (Zaremba et al. 2014)."""
    base, factor, start = train_config.learning_rate, train_config.decay_factor, \
        train_config.decay_start

    def rate(epoch, lr):
        return base * factor ** max(0, epoch - start + 1)

    return [keras.callbacks.LearningRateScheduler(rate)]


class CosineDecay(keras.callbacks.Callback):
    """Sets the rate before every step: half a cosine from ``base`` at the first step of
    training to 0 after the last one (a fixed-budget schedule, as in nanoGPT).

    Args:
        base: the initial learning rate.
    """

    def __init__(self, base):
        super().__init__()
        self.base = base
        self._epoch = 0

    def rate(self, step, total_steps):
        return 0.5 * self.base * (1.0 + math.cos(math.pi * step / total_steps))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._set(0)

    def on_train_batch_begin(self, batch, logs=None):
        self._set(batch)

    def _set(self, batch):
        steps = self.params.get("steps")
        if not steps:
            raise ValueError("The cosine schedule needs the number of steps per epoch.")
        step = self._epoch * steps + batch
        self.model.optimizer.learning_rate.assign(
            self.rate(step, self.params["epochs"] * steps))


@SCHEDULES.register("cosine")
def cosine(train_config, monitor, mode="min"):
    """Half a cosine from ``learning_rate`` to 0 over all training steps."""
    return [CosineDecay(train_config.learning_rate)]


@SCHEDULES.register("plateau")
def plateau(train_config, monitor, mode="min"):
    """Multiplies the rate by ``decay_factor`` when the monitored validation figure stops
    improving (the classic PTB recipe on the exact, token-weighted perplexity); ``mode``
    is its direction: "min" (perplexity, loss) or "max" (accuracy, F1)."""
    return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=train_config.decay_factor,
                                              patience=train_config.patience, min_delta=0.0,
                                              mode=mode, verbose=1)]


class Warmup(keras.callbacks.Callback):
    """Linear warmup: step ``s`` (from 0) of the first ``steps`` trains at
    ``(s + 1) / steps`` of the rate the schedule set; the schedule's own value is put back
    after each step, so step, plateau and cosine schedules see their rate unchanged.

    Args:
        steps: training steps to warm up over.
    """

    def __init__(self, steps):
        super().__init__()
        self.steps, self._step = steps, 0

    def get_state(self):
        return {"step": self._step}

    def set_state(self, state):
        self._step = state["step"]

    def on_train_batch_begin(self, batch, logs=None):
        if self._step < self.steps:
            rate = self.model.optimizer.learning_rate
            self._scheduled = float(keras.ops.convert_to_numpy(rate))
            rate.assign(self._scheduled * (self._step + 1) / self.steps)

    def on_train_batch_end(self, batch, logs=None):
        if self._step < self.steps:
            self.model.optimizer.learning_rate.assign(self._scheduled)
        self._step += 1


def make_schedule(train_config, monitor="val_perplexity", mode="min"):
    """Callbacks that implement ``train.schedule``, then ``train.warmup_steps``.

    Args:
        train_config: a `TrainConfig`.
        monitor: the validation figure a plateau schedule watches.
        mode: its direction, "min" or "max" (the task's `Workflow.direction`).
    """
    factory = SCHEDULES.get(train_config.schedule)
    if not 0.0 < train_config.decay_factor <= 1.0:
        raise pipeline_error("train.decay_factor", "must be in (0, 1]", train_config.decay_factor)
    warmup = [Warmup(train_config.warmup_steps)] if train_config.warmup_steps else []
    return [*factory(train_config, monitor, check_direction(mode)), *warmup]
