"""Checks of the paths a command will write, made before any slow work starts: a folder
that cannot be created is one line naming the option, not an OSError after training."""

import os
from pathlib import Path

from rnn_pipeline.errors import pipeline_error


# The longest file or folder name of Linux, macOS and Windows file systems, in bytes.
NAME_MAX = 255


def check_writable(path, argument, kind="folder"):
    """Refuses ``path`` if it cannot be created (or written) here: an existing ancestor that
    is a file, a folder without write permission, or a name longer than the file system
    allows.

    Args:
        path: the folder or file to be written.
        argument: the option or key that gave it, for the message (e.g. "--run-dir").
        kind: "folder" or "file", what ``path`` will be.

    Returns:
        ``path`` as a `Path`.
    """
    path = Path(path)
    for name in path.absolute().parts:
        if len(os.fsencode(name)) > NAME_MAX:
            raise pipeline_error(argument, f"must have names of at most {NAME_MAX} bytes, "
                                 f"but {name[:20]}... has {len(os.fsencode(name))}", str(path))
    missing, ancestor = [], path.absolute()
    while not os.path.exists(ancestor):
        missing.append(ancestor.name)
        ancestor = ancestor.parent
    if ancestor != path.absolute() and not ancestor.is_dir():
        raise pipeline_error(argument, f"must be a {kind} path, but {ancestor} is a file, "
                             f"not a folder", str(path))
    writable = ancestor if missing else ancestor.parent if kind == "file" else ancestor
    if not os.access(writable, os.W_OK | os.X_OK):
        raise pipeline_error(argument, f"must be writable, but {writable} is not writable "
                             f"by this user", str(path))
    return path


def check_output_file(path, argument):
    """Refuses an output file whose folder does not exist or cannot be written, or a path
    that is a folder.

    Args:
        path: the file to be written.
        argument: the option that gave it, e.g. "--out".

    Returns:
        ``path`` as a `Path`.
    """
    path = Path(path)
    if path.is_dir():
        raise pipeline_error(argument, "must be a file, not a folder", str(path))
    if not path.absolute().parent.is_dir():
        raise pipeline_error(argument, "must be a file in an existing folder", str(path))
    return check_writable(path, argument, kind="file")
