"""The callbacks that write into a run folder while it trains."""

import keras

from rnn_pipeline.training.gradients import GradientLog


def run_callbacks(run, append=False):
    """TensorBoard epoch logs, and the per-step gradient log with its NaN/Inf stop.

    Args:
        run: the `RunFolder` being written.
        append: a resumed run: continue ``gradients.csv``.
    """
    tensorboard = run.file(run.TENSORBOARD)
    return [keras.callbacks.TensorBoard(str(tensorboard)),
            GradientLog(run.file(run.GRADIENTS_CSV), tensorboard / "gradients",
                        run.file(run.LAST_GOOD), append=append)]
