"""Early stopping on the validation figure, keeping the best epoch's weights."""

import keras

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.training.schedules import check_direction


class RestoreBest(keras.callbacks.EarlyStopping):
    """Keras `EarlyStopping` that restores the best epoch's weights and says which.

    The weights training starts from count as epoch 0 (`start_from`): a model that
    starts as a fitted linear map (the forecaster's highway) never ends worse on the
    validation split than it started.
    """

    def __init__(self, monitor, patience, log=None, mode="min"):
        super().__init__(monitor=monitor, patience=patience, mode=mode,
                         restore_best_weights=True)
        self.log = log

    def start_from(self, logs):
        """Takes the validation ``logs`` of the starting weights as the best so far."""
        current = self.get_monitor_value(logs)
        if current is not None:
            self.best, self.best_epoch = current, -1
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.log is not None and self.best_weights is not None:
            stopped = f"stopped after epoch {self.stopped_epoch + 1}; " if self.stopped_epoch \
                else ""
            kept = "the initial weights" if self.best_epoch < 0 else \
                f"the weights of epoch {self.best_epoch + 1}"
            self.log(f"Early stopping: {stopped}kept {kept} ({self.monitor} {self.best:.4f})")


def make_early_stopping(train_config, monitor, log=None, mode="min"):
    """``[RestoreBest]`` when ``train.early_stopping`` (patience in epochs) is set, else [].

    Args:
        train_config: a `TrainConfig`.
        monitor: the validation figure watched, e.g. "val_perplexity".
        log: callable for the line that says which epoch was kept.
        mode: the figure's direction, "min" or "max" (the task's `Workflow.direction`).
    """
    patience = train_config.early_stopping
    if patience is None:
        return []
    if patience < 1:
        raise pipeline_error("train.early_stopping", "must be at least 1 (epochs without a "
                             "better validation figure) or left out", patience)
    return [RestoreBest(monitor, patience, log=log, mode=check_direction(mode))]
