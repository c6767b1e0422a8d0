"""Whether another process on this machine is still running (locks, stale leftovers)."""

import os


def process_alive(pid):
    """True if process ``pid`` exists on this machine (perhaps owned by another user).

    Args:
        pid: a process id.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
