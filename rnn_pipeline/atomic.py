"""Files written whole or not at all: under a temporary name, then renamed."""

import os
from pathlib import Path


def atomic_write(path, write):
    """Calls ``write(temporary path)`` (same folder and suffix), then renames the file to
    ``path``; a kill during the write leaves no half-written file under that name.

    Args:
        path: the file to write.
        write: callable writing the whole file to the path it is given.
    """
    path = Path(path)
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
