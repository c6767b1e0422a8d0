"""A run folder that stops being writable while training (permissions changed, disk
full, a read-only remount) ends the run with one line naming the folder, not a
traceback: the last complete checkpoint stays, and ``fit --resume`` continues from it."""

import contextlib
import errno

from rnn_pipeline.errors import TrainingStopped

_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
_WRITE_TEXTS = ("Permission denied", "Read-only file system", "No space left",
                "Operation not permitted", "Disk quota exceeded")


def write_failure(exc):
    """The one-line reason if ``exc`` is a failed write (permissions, a read-only file
    system, a full disk), else None."""
    import tensorflow as tf

    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    if isinstance(exc, tf.errors.OpError):
        message = getattr(exc, "message", str(exc))
        if isinstance(exc, tf.errors.PermissionDeniedError) or any(
                text in message for text in _WRITE_TEXTS):
            return message.strip().splitlines()[0][:300]
    return None


@contextlib.contextmanager
def writable(run_path):
    """Turns a failed write under ``run_path`` into `TrainingStopped` (exit code 1).

    Args:
        run_path: the run folder being written.
    """
    import tensorflow as tf

    try:
        yield
    except (OSError, tf.errors.OpError) as exc:
        reason = write_failure(exc)
        if reason is None:
            raise
        from rnn_pipeline.training.checkpoints import latest_complete

        kept = latest_complete(run_path / "checkpoints")
        then = (f"the last checkpoint ({kept.name}) is kept: make the folder writable and "
                f"continue with rnn-pipeline fit --resume {run_path}" if kept else
                "no checkpoint was complete yet")
        raise TrainingStopped(f"The run folder {run_path} cannot be written ({reason}): "
                              f"training stopped; {then}") from None
