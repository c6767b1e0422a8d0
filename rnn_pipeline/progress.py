"""The default progress log of the library, and the clock behind its time estimates."""

import time


def say(message):
    """A flushed line on stdout."""
    print(message, flush=True)


def clock_time(seconds):
    """``seconds`` as ``m:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, secs = divmod(max(int(round(seconds)), 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunClock:
    """Times a run made of ``parts`` (a fit's epochs, a diagnosis' cells), each of some
    steps, and estimates how long the current part and the whole run still take.

    The time per step is measured from the end of a part's first step, so that the
    one-off graph tracing of a first step does not inflate it; the time between a part's
    last step and the next part's start (validation, checkpoint) is added to every part
    still to come.

    Args:
        parts: how many parts the run has.
        clock: a monotonic clock in seconds.
    """

    def __init__(self, parts, clock=time.perf_counter):
        self.parts, self.clock = parts, clock
        self.part, self.tail, self.previous_per_step = 0, 0.0, None
        self._start = self._first = self._last_step = None
        self._steps_at_first = self._done = 0

    def begin(self, part):
        """Part ``part`` (from 0) starts."""
        now = self.clock()
        if self._last_step is not None:  # the part before: its per-step time and its tail
            self.previous_per_step = self.seconds_per_step(self._done, self._last_step)
            self.tail = now - self._last_step
        self.part, self._start = part, now
        self._first = self._last_step = None

    def step(self, done):
        """Step ``done`` (from 1) of the current part has ended."""
        now = self.clock()
        if self._first is None:
            self._first, self._steps_at_first = now, done
        self._last_step, self._done = now, done

    def seconds_per_step(self, done, now=None):
        """The current part's time per step after its first step (with one step only:
        the time since the part began)."""
        now = self.clock() if now is None else now
        if self._first is not None and done > self._steps_at_first:
            return (now - self._first) / (done - self._steps_at_first)
        return (now - self._start) / max(done, 1)

    def left(self, done, steps):
        """(seconds left of the current part, seconds left of the whole run) after
        ``done`` of the part's ``steps`` steps."""
        per_step = self.seconds_per_step(done)
        part = per_step * (steps - done) + self.tail
        return part, part + (self.parts - self.part - 1) * (per_step * steps + self.tail)

    def left_at_begin(self, steps):
        """Seconds left of the whole run as a part of ``steps`` steps begins (None before
        a part has been timed)."""
        if self.previous_per_step is None:
            return None
        return (self.parts - self.part) * (self.previous_per_step * steps + self.tail)
