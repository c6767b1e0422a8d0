"""TF Serving's folder layout: ``<base>/<name>/<version>/`` with numeric versions,
written atomically, plus the ``models.config`` that lists the models under a base."""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.processes import process_alive
from rnn_pipeline.limits import MAX_VERSION

MODELS_CONFIG = "models.config"
STAGING_PREFIX = ".export-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


def check_name(name, argument="--name", advice=""):
    """A TF Serving model name: ASCII letters, digits, '_', '.' or '-'.

    Args:
        name: the name.
        argument: what gave it, for the message.
        advice: added to the rule, e.g. "; give export a --name".
    """
    if not _NAME.match(name or ""):
        raise pipeline_error(argument, f"must be ASCII letters, digits, '_', '.' or '-', "
                             f"starting with a letter or digit, to name a model in TF "
                             f"Serving{advice}", name)
    return name


def versions(model_dir):
    """Numeric version folders of ``model_dir``, ascending (TF Serving ignores the rest)."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def resolve_version(model_dir, version=None):
    """The given version (in [1, `MAX_VERSION`], not taken yet), or the next free one (a
    number whose name no file or folder of ``model_dir`` has)."""
    existing = versions(model_dir)
    taken = {p.name for p in model_dir.iterdir()} if model_dir.is_dir() else set()
    free = (existing[-1] + 1) if existing else 1
    while str(free) in taken:
        free += 1
    if version is None:
        return free
    if not 1 <= version <= MAX_VERSION:
        raise pipeline_error("--version", f"must be in [1, {MAX_VERSION}] (TF Serving reads "
                             f"it as an int64)", version)
    if str(version) in taken:
        what = "a version" if version in existing else "a file or folder of that name"
        raise pipeline_error("--version", f"already exists in {model_dir} ({what}); versions "
                             f"are never overwritten (next free: {free})", version)
    return version


def _missing_folders(path):
    """``path`` and its ancestors that do not exist yet, innermost first."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    return missing


def _umask_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def remove_stale_staging(model_dir):
    """Removes the staging folders (``.export-<pid>-*``) of exports whose process is gone:
    an export killed mid-write leaves one, which no server reads but which would stay."""
    for path in model_dir.glob(f"{STAGING_PREFIX}*"):
        pid = path.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def write_atomically(model_dir, version, write):
    """Calls ``write(tmp_path)`` on a temporary, non-numeric folder inside ``model_dir`` and
    renames it to ``<version>``: a server polling the folder never sees half a version. On
    failure nothing is left behind, not even the folders this call created.

    Returns:
        The version's `Path`.
    """
    created = _missing_folders(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(model_dir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=model_dir))
    target = model_dir / str(version)
    try:
        write(staging)
        # mkdtemp makes the folder private (0700); a model server often runs as another
        # user, so the version gets the mode any new folder gets here.
        os.chmod(staging, _umask_mode())
        os.rename(staging, target)  # fails if the version appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        raise
    return target


def read_models_config(base):
    """The ModelServerConfig of ``<base>/models.config`` (empty when there is none yet);
    a file that is not one is an error, raised before anything is written."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = Path(base) / MODELS_CONFIG
    config = model_server_config_pb2.ModelServerConfig()
    if path.exists():
        try:
            text_format.Parse(path.read_text(encoding="utf-8"), config)
        except (text_format.ParseError, UnicodeDecodeError) as exc:
            raise pipeline_error(str(path), "must be a ModelServerConfig text proto to be "
                                 "updated", str(exc)) from None
    return config


def update_models_config(base, name, config, serving_root="/models"):
    """Adds ``name`` to ``config`` (from `read_models_config`), keeping every other entry,
    and writes it to ``<base>/models.config`` atomically. Paths are where ``base`` is
    mounted in the server's container.

    Returns:
        The file's `Path`.
    """
    from google.protobuf import text_format

    path = Path(base) / MODELS_CONFIG
    entries = config.model_config_list.config
    if not any(entry.name == name for entry in entries):
        entry = entries.add()
        entry.name = name
        entry.base_path = f"{serving_root}/{name}"
        entry.model_platform = "tensorflow"
    staging = path.with_name(f".{MODELS_CONFIG}.tmp")
    staging.write_text(text_format.MessageToString(config), encoding="utf-8")
    os.replace(staging, path)
    return path
