"""Server-side batching, as TF Serving's ``--enable_batching`` does: concurrent requests to
one signature of one version are merged along the batch axis, run as one Session call,
and the outputs split back per request.

Scheduling follows TF Serving's shared batch scheduler: each signature has a queue of
batches; a request joins the newest batch while it has room (``max_batch_size`` rows),
else opens a new one. A batch runs on one of ``num_batch_threads`` threads once it is
full, a newer batch exists, or its first request has waited ``batch_timeout_micros``.
More than ``max_enqueued_batches`` waiting batches: the request is refused, 503, in TF
Serving's words.

Where this server differs from TF Serving, deliberately:

* a request of more than ``max_batch_size`` rows runs alone, at once, outside the queue
  (TF Serving refuses it, 400, unless it may split large batches), and so does a request
  to a signature with an input that has no batch axis (a fixed first size, or a scalar);
* requests whose inputs differ past the batch axis go to batches of their own, unless
  ``pad_variable_length_inputs`` pads them (strings with b"", numbers with 0);
* a batch is padded up to the next of ``allowed_batch_sizes`` by repeating its last row;
  padded rows are dropped from the outputs;
* a merged run that fails (an export's check of one request's input) is run again one
  request at a time, so that each request gets its own answer or error.
"""

import bisect
import collections
import threading
import time

import numpy as np

from rnn_pipeline.serving.errors import ServingError


class QueueFull(ServingError):
    """The signature's batch queue holds ``max_enqueued_batches`` batches: HTTP 503."""

    status = 503


class _Task:
    """One request waiting for its rows of a batch's outputs."""

    def __init__(self, inputs, rows):
        self.inputs, self.rows = inputs, rows
        self.done = threading.Event()
        self.outputs = self.error = None

    def finish(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error
        self.done.set()


class _Batch:
    """Tasks for one signature, merged when it runs."""

    def __init__(self, signature, task):
        self.signature, self.tasks, self.rows = signature, [task], task.rows
        self.since = time.monotonic()


def _rows(signature, inputs):
    """The requests's rows, or None when the signature or the request cannot be merged
    along a first, batch axis (an input of fixed first size, a scalar, rows that differ)."""
    if not inputs or set(inputs) != set(signature.inputs):
        return None
    for name, spec in signature.inputs.items():
        if spec.shape.rank is None or spec.shape.rank == 0 or spec.shape[0] is not None:
            return None
    counts = {np.shape(value)[0] if np.ndim(value) else None for value in inputs.values()}
    (rows,) = counts if len(counts) == 1 else (None,)
    return rows or None


def _fill(array):
    return b"" if array.dtype.kind in "OSU" else np.zeros((), array.dtype)


def _merge(arrays, padded_rows):
    """One input's arrays, one per request, concatenated along the batch axis: each
    padded past that axis to the largest request's shape, then ``padded_rows`` copies
    of the last row added."""
    arrays = [np.asarray(array) for array in arrays]
    shape = tuple(np.max([array.shape[1:] for array in arrays], axis=0).tolist()) \
        if arrays[0].ndim > 1 else ()
    same = [array if array.shape[1:] == shape else _pad(array, shape) for array in arrays]
    merged = np.concatenate(same)  # (rows, *shape)
    if padded_rows:
        merged = np.concatenate([merged, np.repeat(merged[-1:], padded_rows, axis=0)])
    return merged


def _pad(array, shape):
    """``array`` (rows, ...) in a (rows, *shape) array of its fill value."""
    out = np.full((len(array), *shape), _fill(array), dtype=array.dtype)
    out[tuple(slice(0, size) for size in array.shape)] = array
    return out


class Batcher:
    """Merges concurrent calls of each signature (see the module's docstring).

    Args:
        parameters: a `BatchingParameters`.

    Attributes:
        runs_by_size: {rows: Session calls of that many rows} so far (merged batches as
            padded, and requests run alone).
    """

    def __init__(self, parameters):
        self.parameters = parameters
        self.runs_by_size = collections.Counter()
        self._queues = {}  # (signature, merge key) -> deque of _Batch; the last is open
        self._condition = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, daemon=True,
                                          name=f"{parameters.thread_pool_name}_{i}")
                         for i in range(parameters.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def _merge_key(self, inputs):
        """What requests must share to be merged: the ranks of their inputs, and with
        ``pad_variable_length_inputs`` off, their shapes past the batch axis too."""
        pad = self.parameters.pad_variable_length_inputs
        return tuple((name, np.ndim(value) if pad else np.shape(value)[1:])
                     for name, value in sorted(inputs.items()))

    def run(self, signature, inputs):
        """``signature.run(inputs)``, merged with concurrent calls of the same signature.

        Args:
            signature: a `repository.Signature` (``inputs`` specs, ``run``).
            inputs: {input: NumPy array}, one row per first index.

        Returns:
            {output: NumPy array}: this request's rows.
        """
        rows = _rows(signature, inputs)
        if rows is None or rows > self.parameters.max_batch_size:
            return self._run(signature, inputs)  # alone, at once
        task = _Task(inputs, rows)
        key = (signature, self._merge_key(inputs))
        with self._condition:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            queue = self._queues.setdefault(key, collections.deque())
            if queue and queue[-1].rows + rows <= self.parameters.max_batch_size:
                queue[-1].tasks.append(task)
                queue[-1].rows += rows
            elif len(queue) >= self.parameters.max_enqueued_batches:
                raise QueueFull(
                    f"The batch scheduling queue to which this task was submitted is full "
                    f"({self.parameters.max_enqueued_batches} batches wait for a thread: "
                    f"max_enqueued_batches of the batching parameters); try again")
            else:
                queue.append(_Batch(signature, task))
            self._condition.notify_all()
        task.done.wait()
        if task.error is not None:
            raise task.error
        return task.outputs

    def close(self):
        """Stops the threads once the batches queued now have run."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join()

    @property
    def session_runs(self):
        """Session calls made so far."""
        with self._condition:
            return sum(self.runs_by_size.values())

    def waiting_rows(self):
        """Rows of the batches that wait for a thread."""
        with self._condition:
            return sum(batch.rows for queue in self._queues.values() for batch in queue)

    def _run(self, signature, inputs):
        rows = {len(value) for value in inputs.values() if np.ndim(value)}
        with self._condition:
            self.runs_by_size[max(rows, default=0)] += 1
        return signature.run(inputs)

    def _next(self):
        """The batch to run now (the longest waiting of those due), taken off its queue,
        or (None, seconds until one is due; None: no batch waits)."""
        now, timeout = time.monotonic(), self.parameters.batch_timeout_micros / 1e6
        due, soonest = [], None
        for key, queue in self._queues.items():
            head = queue[0]
            if (len(queue) > 1 or head.rows >= self.parameters.max_batch_size
                    or head.since + timeout <= now):
                due.append((head.since, key))
            else:
                wait = head.since + timeout - now
                soonest = wait if soonest is None else min(soonest, wait)
        if not due:
            return None, soonest
        key = min(due, key=lambda entry: entry[0])[1]
        batch = self._queues[key].popleft()
        if not self._queues[key]:
            del self._queues[key]
        return batch, None

    def _work(self):
        while True:
            with self._condition:
                while True:
                    batch, wait = self._next()
                    if batch is not None or (self._closed and wait is None):
                        break
                    self._condition.wait(None if wait is None else
                                         min(wait, threading.TIMEOUT_MAX))
            if batch is None:
                return
            self._process(batch)

    def _process(self, batch):
        """Runs ``batch`` and hands each task its rows; a failed merged run is run again
        one task at a time."""
        tasks, sizes = batch.tasks, self.parameters.allowed_batch_sizes
        padded = sizes[bisect.bisect_left(sizes, batch.rows)] - batch.rows if sizes else 0
        if len(tasks) > 1 or padded:
            try:
                inputs = {name: _merge([task.inputs[name] for task in tasks], padded)
                          for name in tasks[0].inputs}
                outputs = self._run(batch.signature, inputs)
                if all(np.ndim(value) and len(value) == batch.rows + padded
                       for value in outputs.values()):
                    start = 0
                    for task in tasks:
                        task.finish({name: value[start:start + task.rows]
                                     for name, value in outputs.items()})
                        start += task.rows
                    return
            except Exception:  # noqa: BLE001  (each request is run alone below)
                pass
        for task in tasks:
            try:
                task.finish(self._run(batch.signature, task.inputs))
            except Exception as exc:  # noqa: BLE001  (raised in the request's own thread)
                task.finish(error=exc)
