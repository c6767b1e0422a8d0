"""Training code: optimizers, schedules, state handling, fit/evaluate. Knows no model."""

from rnn_pipeline.training.optimizers import OPTIMIZERS, make_optimizer
from rnn_pipeline.training.schedules import SCHEDULES, make_schedule
from rnn_pipeline.training.trainer import evaluate, fit

__all__ = ["OPTIMIZERS", "SCHEDULES", "evaluate", "fit", "make_optimizer", "make_schedule"]
