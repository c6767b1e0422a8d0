"""Path keys of a pipeline (`training.path_key`): a relative path in a pipeline file is
relative to the file's folder, one given with ``--set`` to the current folder; both are
made absolute when read, so a run's ``config.toml`` works from any folder."""

import dataclasses
import os


def _absolute(value, folder):
    """A path (or list of globs) relative to ``folder`` made absolute; absolute ones and
    ``~/...`` are kept (expanded)."""
    if isinstance(value, list):
        return [_absolute(item, folder) for item in value]
    path = os.path.expanduser(value)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(folder, path))


def resolve_paths(config, folder, keys=None):
    """Returns ``config`` with its path keys (`training.path_key`) made absolute against
    ``folder``.

    Args:
        config: a `PipelineConfig` (or one of its sections).
        folder: the folder relative paths are relative to.
        keys: dotted keys to resolve (``--set`` ones); None: every path key.
    """
    changes = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            inner = None if keys is None else {k.partition(".")[2] for k in keys
                                               if k.startswith(f"{f.name}.")}
            resolved = value if inner == set() else resolve_paths(value, folder, inner)
            if resolved is not value:
                changes[f.name] = resolved
        elif f.metadata.get("path") and value and (keys is None or f.name in keys):
            changes[f.name] = _absolute(value, folder)
    return dataclasses.replace(config, **changes) if changes else config
