"""TensorFlow without its C++ log lines on the user's screen.

TensorFlow's C++ code logs through absl straight to file descriptor 2, whatever
``TF_CPP_MIN_LOG_LEVEL`` says: at import (oneDNN, CUDA stubs, CPU features), at the first
device probe ("failed call to cuInit") and while ops run (oneDNN's "supports DT_INT32 only
on platforms with AVX-512", tf.data's warnings). So:

* importing TensorFlow is quiet wherever it starts: ``import rnn_pipeline`` installs
  `QuietImports`, which imports it (and probes the devices) with descriptor 2 closed off;
* a command (`filter_native_logs`) sends descriptor 2 through a filter that drops those
  log lines (I, W and E; fatal ones stay) and passes everything else on. Python's own
  ``sys.stderr`` (tracebacks, warnings, click's errors) writes to the terminal directly.

Set ``RNN_PIPELINE_TF_LOGS=1`` to see every line.
"""

import atexit
import contextlib
import importlib.abc
import io
import os
import re
import sys
import threading

LOGS_ENV = "RNN_PIPELINE_TF_LOGS"
QUIET_MODULES = ("tensorflow", "tensorflow_text")

# absl's "I0000 00:00:1796667245.863325   22254 file.cc:31] ..." (before absl is
# initialised the clock is seconds since 1970; after it, "I0101 12:00:00.123456"), the older
# "2024-01-01 12:00:00.123456: W tensorflow/file.cc:31] ...", absl's notice before it is
# initialised, and the second line of the CPU-feature notice.
NATIVE_LOG_LINE = re.compile(
    rb"([IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\]\s]+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] [^\]\s]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    rb"STDERR\s*$"
    rb"|To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    rb"compiler flags\.\s*$)")


def tensorflow_logs_wanted():
    """Whether the user asked for TensorFlow's own log lines (``RNN_PIPELINE_TF_LOGS=1``)."""
    return os.environ.get(LOGS_ENV) == "1"


@contextlib.contextmanager
def descriptor_2_closed_off():
    """File descriptor 2 sent to /dev/null inside the block, restored after it (also when
    it raises, so that the exception shows)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # TensorFlow's own C++ logging (not absl's) obeys this: its errors while ops run too,
    # such as oneDNN's "supports DT_INT64 only on platforms with AVX-512"; a real fault
    # still raises a Python exception. A value the user set is kept.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow_quietly():
    """Imports TensorFlow and probes its devices without their start-up log lines (see the
    module docstring); a no-op where it is imported already or the lines are wanted."""
    if tensorflow_logs_wanted() or "tensorflow" in sys.modules:
        return
    with descriptor_2_closed_off():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe logs here, not at import


class _QuietLoader(importlib.abc.Loader):
    """Runs another loader with descriptor 2 closed off, then hands the module back to it."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        with descriptor_2_closed_off():
            self.loader.exec_module(module)
            if module.__name__ == "tensorflow":
                module.config.list_physical_devices()  # the CUDA probe logs here


class QuietImports(importlib.abc.MetaPathFinder):
    """A `sys.meta_path` finder: the first import of TensorFlow (or tensorflow-text), by
    whatever module, runs quietly (`_QuietLoader`)."""

    def find_spec(self, name, path, target=None):
        if name not in QUIET_MODULES or tensorflow_logs_wanted():
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install_quiet_imports():
    """Puts `QuietImports` first in `sys.meta_path` (once)."""
    if not any(isinstance(finder, QuietImports) for finder in sys.meta_path):
        sys.meta_path.insert(0, QuietImports())


class NativeLogFilter:
    """Descriptor 2 as a pipe that a thread reads, dropping TensorFlow's log lines
    (`NATIVE_LOG_LINE`) and passing every other line on to the real stderr.

    Args:
        real: a descriptor of the real stderr.
    """

    def __init__(self, real):
        self.real = real
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self.thread = threading.Thread(target=self._pump, args=(read,), daemon=True,
                                       name="native-log-filter")
        self.thread.start()

    def _pump(self, read):
        """Reads the pipe to its end (a writer never blocks on a full pipe), forwarding
        the lines kept; a closed stderr (``| head``) only stops the forwarding."""
        forward = True
        with open(read, "rb", buffering=0) as pipe:
            for line in io.BufferedReader(pipe):
                if forward and not NATIVE_LOG_LINE.match(line):
                    try:
                        os.write(self.real, line)
                    except OSError:
                        forward = False

    def close(self):
        """Gives descriptor 2 back to the real stderr and forwards what is left."""
        with contextlib.suppress(Exception):
            sys.__stderr__.flush()
        os.dup2(self.real, 2)  # the pipe's last writer: the thread reads to its end
        self.thread.join(timeout=2)


_FILTER = []


def filter_native_logs():
    """For a command: TensorFlow's log lines never reach the terminal (see the module
    docstring). Only where stderr is the process's own descriptor 2 (not under a test
    runner that captures it), once, and not with ``RNN_PIPELINE_TF_LOGS=1``."""
    try:
        own = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        own = False
    if not own or _FILTER or tensorflow_logs_wanted():
        return
    sys.stderr.flush()
    real = os.dup(2)
    stream = sys.stderr
    sys.stderr = io.TextIOWrapper(open(real, "wb", buffering=0, closefd=False),
                                  encoding=stream.encoding, errors=stream.errors,
                                  line_buffering=True, write_through=True)
    _FILTER.append(NativeLogFilter(real))
    atexit.register(_FILTER[0].close)
