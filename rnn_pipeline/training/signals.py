"""SIGINT (Ctrl-C) and SIGTERM during training: finish the step, checkpoint, stop."""

import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # the command exits with 128 + the number


class StopSignals:
    """A context that records SIGINT and SIGTERM instead of dying at once; the training
    loop asks `received` between steps.

    Args:
        agree: callable(flag) -> flag, the same on every worker (any worker's True), so
            that every worker stops at the same step.
    """

    def __init__(self, agree=bool):
        self.agree = agree
        self.signal_number = None
        self._previous = {}

    def _handle(self, signal_number, frame):
        if self.signal_number is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.signal_number = signal_number

    def received(self):
        """The signal received by this or any other worker (SIGTERM for another
        worker's), or None."""
        mine = self.signal_number is not None
        if self.agree(mine):
            return self.signal_number if mine else signal.SIGTERM
        return None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
