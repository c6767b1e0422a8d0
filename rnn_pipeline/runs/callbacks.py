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


def close_run_callbacks(callbacks):
    """Closes the files of `run_callbacks`: Keras skips ``on_train_end`` when training
    raises (a stop, an unwritable folder), which would leave them open.

    Args:
        callbacks: what `run_callbacks` returned (other callbacks are left alone).
    """
    for callback in callbacks:
        if isinstance(callback, GradientLog):
            callback.close()
        elif isinstance(callback, keras.callbacks.TensorBoard):
            callback._close_writers()  # Keras' own on_train_end step, no public name
