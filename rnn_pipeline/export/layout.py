"""TF Serving's folder layout: ``<base>/<name>/<version>/`` with numeric versions,
written atomically, plus the ``models.config`` that lists the models under a base."""

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


def write_atomically(model_dir, version, write):
    """Calls ``write(tmp_path)`` on a temporary, non-numeric folder inside ``model_dir`` and
    renames it to ``<version>``: a server polling the folder never sees half a version.

    Returns:
        The version's `Path`.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=model_dir))
    target = model_dir / str(version)
    try:
        write(staging)
        os.rename(staging, target)  # fails if the version appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def update_models_config(base, name, serving_root="/models"):
    """Adds ``name`` to ``<base>/models.config`` (a ModelServerConfig text proto), keeping
    every other entry. Paths are where ``base`` is mounted in the server's container.

    Returns:
        The file's `Path`.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = Path(base) / MODELS_CONFIG
    config = model_server_config_pb2.ModelServerConfig()
    if path.exists():
        try:
            text_format.Parse(path.read_text(encoding="utf-8"), config)
        except text_format.ParseError as exc:
            raise pipeline_error(str(path), "must be a ModelServerConfig text proto to be "
                                 "updated", str(exc)) from None
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
