"""One process trains a run at a time: ``<run>/train.lock``.

`fit` and `fit --resume` hold an exclusive `fcntl.flock` on the file while they train, with
the owner's pid, host and start time written in it. The kernel releases the lock when the
process ends, however it ends, so a lock left by a dead process is free and is taken over
(with a note). Commands that read a run (`evaluate`, `export`, `generate`, ...) refuse a
run whose lock is held, naming the live process, instead of reading a half-trained folder.
"""

import datetime
import fcntl
import json
import os
import socket

from rnn_pipeline.errors import pipeline_error

LOCK_FILE = "train.lock"


def _owner(path):
    """The owner record written in a lock file ({} when unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _describe(owner):
    started = owner.get("started", "?")
    return f"process {owner.get('pid', '?')} on {owner.get('host', '?')}, since {started}"


def _held(path):
    """Whether another process holds the lock file's lock now."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a shared lock taken above


def check_not_training(run_path, argument="RUN"):
    """Refuses a run that a live process is training.

    Args:
        run_path: the run folder.
        argument: the command's name for it, e.g. "RUN" or "--resume".
    """
    path = run_path / LOCK_FILE
    if _held(path):
        raise pipeline_error(argument, f"is being trained by {_describe(_owner(path))}: wait "
                             f"until it ends (or stop it) before using the run", str(run_path))


class RunLock:
    """Holds ``<run>/train.lock`` while a process trains the run.

    Args:
        run_path: the run folder (it exists).
        argument: how the command names the run, for the refusal.
        log: callable for the note when a dead process's lock is taken over.
    """

    def __init__(self, run_path, argument="RUN", log=print):
        self.path, self.argument, self.log = run_path / LOCK_FILE, argument, log
        self._fd = None

    def acquire(self):
        """Takes the lock or refuses with one line naming the live owner; returns self."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise pipeline_error(self.argument, f"is being trained by "
                                 f"{_describe(_owner(self.path))}: one process trains a run at "
                                 f"a time", str(self.path.parent)) from None
        previous = _owner(self.path)
        if previous.get("pid") not in (None, os.getpid()):
            self.log(f"Note: {self.path} was left by {_describe(previous)}, which is no "
                     f"longer running; taking it over")
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self):
        """Removes the file and releases the lock (also when the process dies without it)."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
