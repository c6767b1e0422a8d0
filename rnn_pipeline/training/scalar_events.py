"""Per-step scalars in a TensorBoard event file, written by TensorBoard's own Python writer:
no TensorFlow op per value (``tf.summary.scalar`` ran one eager op per value, about a third
of the fit loop's Python time per step on PTB; BENCHMARKS.md, issue 38)."""

import time

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter


class ScalarEvents:
    """Appends scalar events to a new event file in ``folder``.

    Args:
        folder: the TensorBoard run folder (created if missing).
    """

    def __init__(self, folder):
        self._writer = EventFileWriter(str(folder))

    def write(self, step, scalars):
        """One event at ``step`` holding ``scalars`` {tag: float}."""
        values = [summary_pb2.Summary.Value(tag=tag, simple_value=float(value))
                  for tag, value in scalars.items()]
        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=step,
                                               summary=summary_pb2.Summary(value=values)))

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()
