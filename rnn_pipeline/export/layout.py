"""TF Serving's folder layout: ``<base>/<name>/<version>/`` with numeric versions,
written atomically, plus the ``models.config`` that lists the models under a base."""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from rnn_pipeline.errors import pipeline_error

MODELS_CONFIG = "models.config"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name):
    if not _NAME.match(name or ""):
        raise pipeline_error("--name", "must be letters, digits, '_', '.' or '-' (starting "
                             "with a letter or digit)", name)
    return name


def versions(model_dir):
    """Numeric version folders of ``model_dir``, ascending (TF Serving ignores the rest)."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def resolve_version(model_dir, version=None):
    """The given version (a positive integer that does not exist yet), or the next free one."""
    existing = versions(model_dir)
    if version is None:
        return (existing[-1] + 1) if existing else 1
    if version < 1:
        raise pipeline_error("--version", "must be a positive integer", version)
    if version in existing or (model_dir / str(version)).exists():
        raise pipeline_error("--version", f"already exists in {model_dir}; versions are never "
                             f"overwritten (next free: {existing[-1] + 1})", version)
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


def write_atomically(model_dir, version, write):
    """Calls ``write(tmp_path)`` on a temporary, non-numeric folder inside ``model_dir`` and
    renames it to ``<version>``: a server polling the folder never sees half a version. On
    failure nothing is left behind, not even the folders this call created.

    Returns:
        The version's `Path`.
    """
    created = _missing_folders(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=model_dir))
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
