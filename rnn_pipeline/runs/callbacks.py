"""The callbacks that write into a run folder while it trains."""

import keras

from rnn_pipeline.training.gradients import GradientLog


def run_callbacks(run):
    """TensorBoard epoch logs, and the per-step gradient log with its NaN/Inf stop.

    Args:
        run: the `RunFolder` being written.
    """
    tensorboard = run.file(run.TENSORBOARD)
    return [keras.callbacks.TensorBoard(str(tensorboard)),
            GradientLog(run.file(run.GRADIENTS_CSV), tensorboard / "gradients",
                        run.file(run.LAST_GOOD))]
