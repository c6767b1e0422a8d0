"""Pipeline files (TOML) to typed dataclasses and back, with ``--set key.path=value``."""

import dataclasses
import difflib
import math
import os
import re
import tomllib
import typing
from pathlib import Path

from rnn_pipeline.choices import DEFAULT_TASK
from rnn_pipeline.config.paths import resolve_paths
from rnn_pipeline.tasks import TASK_CONFIGS
from rnn_pipeline.errors import PipelineError, pipeline_error

_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
_PLURALS = {int: "integers", float: "numbers", bool: "booleans", str: "strings"}


def _check_value(key, annotation, value):
    """Returns ``value`` converted to ``annotation`` or raises a `PipelineError`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:  # Optional[X]
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        if inner is not str and isinstance(value, str) and value.lower() == "none":
            return None  # TOML has no null: "none" unsets an optional number
        return None if value is None else _check_value(key, inner, value)
    if origin is list:
        (inner,) = typing.get_args(annotation)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise pipeline_error(key, f"must be a list of {_PLURALS[inner]}", value)
        return [_check_value(key, inner, v) for v in value]
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is int and isinstance(value, bool) or not isinstance(value, annotation):
        raise pipeline_error(key, f"must be {_TYPE_NAMES[annotation]}", value)
    if annotation is float and not math.isfinite(value):
        raise pipeline_error(key, "must be a finite number (not nan or inf)", value)
    return value


def _check_range(key, field, value):
    """Applies a field's ``metadata["min"]``, ``["max"]``, ``["pattern"]`` and
    ``["choices"]`` (`training.at_least`, `training.matching`, `training.one_of`)."""
    low, high = field.metadata.get("min"), field.metadata.get("max")
    pattern = field.metadata.get("pattern")
    if pattern is not None and value is not None and not re.fullmatch(pattern, value):
        raise pipeline_error(key, field.metadata["rule"], value)
    registry = field.metadata.get("choices")
    if low is not None and value is not None and value < low:
        rule = f"must be at least {low}" if high is None else f"must be in [{low}, {high}]"
        raise pipeline_error(key, rule, value)
    if high is not None and value is not None and value > high:
        raise pipeline_error(key, f"must be in [{low}, {high}]", value)
    if registry is not None and value is not None:
        for item in value if isinstance(value, list) else [value]:  # a list: each item
            registry.check(item, key)
    return value


def _closest(name, choices):
    close = difflib.get_close_matches(name, choices, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _elsewhere(path):
    """' It belongs to <task> pipelines.' when dotted ``path`` is a key of another task's
    config class, else ''."""
    owners = []
    for task in TASK_CONFIGS.names():
        cls = TASK_CONFIGS.get(task)
        for part in path.split("."):
            if not dataclasses.is_dataclass(cls) or part not in typing.get_type_hints(cls):
                break
            cls = typing.get_type_hints(cls)[part]
        else:
            owners.append(repr(task))
    return f" It belongs to {' and '.join(owners)} pipelines." if owners else ""


def from_dict(cls, data, prefix=""):
    """Builds dataclass ``cls`` from a nested dict, rejecting unknown keys by name.

    Args:
        cls: a dataclass type from `rnn_pipeline.config.schema`.
        data: the parsed mapping.
        prefix: dotted path of this section, for error messages.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in fields:
            valid = [f"{prefix}{n}" for n in fields]
            task = getattr(cls, "task", None)
            where = f" in a {task!r} pipeline" if isinstance(task, str) else ""
            raise PipelineError(
                f"Unknown config key {path!r}{where}.{_elsewhere(path) or _closest(path, valid)} "
                f"Valid keys here: {', '.join(valid)}. Received: {path}={value!r}"
            )
        if dataclasses.is_dataclass(hints[key]):
            if not isinstance(value, dict):
                raise pipeline_error(path, "must be a table (section)", value)
            kwargs[key] = from_dict(hints[key], value, prefix=f"{path}.")
        else:
            kwargs[key] = _check_range(path, fields[key], _check_value(path, hints[key], value))
    return cls(**kwargs)


def pipeline_from_dict(data):
    """The task's pipeline config class (`TASK_CONFIGS`) built from a parsed file.

    Args:
        data: the parsed mapping; its ``task`` (default: the schema's) picks
            the class, and keys of another task's sections are refused by name.
    """
    task = _check_value("task", str, data.get("task", DEFAULT_TASK))
    return from_dict(TASK_CONFIGS.get(task), data)


def _default(field):
    """A dataclass field's default value (``None`` for a default factory)."""
    return None if field.default is dataclasses.MISSING else field.default


def to_dict(config):
    """Returns the config as nested dicts. TOML has no null: a ``None`` is left out where
    it is the key's default, and written ``"none"`` where the default is a value."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_dict(value)
        elif value is not None:
            out[f.name] = value
        elif _default(f) is not None:
            out[f.name] = "none"
    return out


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}


def _toml_string(value):
    """A TOML basic string: quote, backslash and every control character escaped."""
    return '"' + "".join(_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or
                                                   ord(c) == 0x7F else c) for c in value) + '"'


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def dumps(config):
    """Serialises a `PipelineConfig` to TOML text that `loads` reads back identical."""
    data = to_dict(config)
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for section, values in data.items():
        if isinstance(values, dict):
            lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _plain(config_class):
    """``config_class`` at its defaults, each section at its plain class's defaults (the
    language model's recipe sections at `TextConfig`'s, ...): what runs written before the
    recipe hold for the sections they did not use."""
    plain = {}
    for f in dataclasses.fields(config_class):
        section = typing.get_type_hints(config_class)[f.name]
        if dataclasses.is_dataclass(section):
            plain[f.name] = next(c for c in section.__mro__
                                 if c.__module__ != "rnn_pipeline.config.recipe")()
    return config_class(**plain)


def _default_sections():
    """[(task, {section: {key: default}})]: every task's config at its defaults, and at its
    sections' plain defaults."""
    return [(task, to_dict(config)) for task in TASK_CONFIGS.names()
            for config in (TASK_CONFIGS.get(task)(), _plain(TASK_CONFIGS.get(task)))]


def _missing_optional_as_none(cls, data):
    """A run's ``config.toml`` leaves out a ``None`` (before the recipe, even where the key's
    default is now a value): each optional key missing from a section it has reads ``None``."""
    hints = typing.get_type_hints(cls)
    out = dict(data)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]) and isinstance(data.get(f.name), dict):
            out[f.name] = _missing_optional_as_none(hints[f.name], data[f.name])
        elif (f.name not in data and typing.get_origin(hints[f.name]) is typing.Union
              and _default(f) is not None):
            out[f.name] = "none"
    return out


def without_other_tasks_defaults(data):
    """A run's ``config.toml`` written before each task had its own config class holds every
    section of every task, at its defaults: those sections and keys are dropped, so the run
    still reads. Anything set to another value stays (and is refused by name)."""
    defaults = _default_sections()
    task = data.get("task", DEFAULT_TASK)
    own = next((d for name, d in defaults if name == task), {})
    others = [d for name, d in defaults if name != task]
    kept = {}
    for key, value in data.items():
        if key in own or not isinstance(value, dict):
            kept[key] = value
        elif not any(other.get(key) == value for other in others):
            kept[key] = value
    if isinstance(kept.get("model"), dict) and isinstance(own.get("model"), dict):
        kept["model"] = {k: v for k, v in kept["model"].items()
                         if k in own["model"] or not any(
                             other.get("model", {}).get(k) == v for other in others)}
    return kept


def loads(text, source="<string>", run_config=False):
    """Parses TOML text into a `PipelineConfig`.

    Args:
        text: the TOML document.
        source: file name for error messages.
        run_config: the text is a run folder's ``config.toml``, perhaps written before each
            task had its own sections (see `without_other_tasks_defaults`).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PipelineError(f"{source} is not valid TOML: {exc}. "
                            f"Received: file={source!r}") from exc
    if not data:
        raise PipelineError(f"{source} has no settings: an empty pipeline would train the "
                            f"schema's defaults, not the bundled 'default' pipeline. Start "
                            f"from a bundled one (rnn-pipeline fit default, or a copy of its "
                            f"file). Received: file={source!r}")
    try:
        if run_config:
            data = without_other_tasks_defaults(data)
            task = data.get("task", DEFAULT_TASK)
            if isinstance(task, str) and task in TASK_CONFIGS.names():
                data = _missing_optional_as_none(TASK_CONFIGS.get(task), data)
        return pipeline_from_dict(data)
    except PipelineError as exc:
        raise PipelineError(f"{source}: {exc}") from None


def _parse_override(item):
    if "=" not in item:
        raise pipeline_error("--set", "must look like key.path=value", item)
    key, raw = item.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string such as gru
    return key.strip(), value


def apply_overrides(config, overrides):
    """Returns a new config with ``key.path=value`` overrides applied and type-checked; a
    relative path given to a path key is relative to the current folder (made absolute).

    Args:
        config: a `PipelineConfig`.
        overrides: strings like "model.cell=gru" or "train.epochs=3".
    """
    data = to_dict(config)
    keys = set()
    for item in overrides:
        key, value = _parse_override(item)
        keys.add(key)
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise pipeline_error("--set", f"{part!r} is not a section", item)
        node[leaf] = value
    try:
        return resolve_paths(pipeline_from_dict(data), os.getcwd(), keys)
    except PipelineError as exc:
        raise PipelineError(f"--set: {exc}") from None


def load(path, run_config=False):
    """Reads a pipeline file into a `PipelineConfig`. Its relative paths (data files,
    globs) are relative to the file's folder: they come back absolute.

    Args:
        path: the file.
        run_config: it is a run folder's ``config.toml`` (see `loads`), whose paths are
            absolute (a run written before they were keeps its paths as they are).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PipelineError(f"{path} must be UTF-8 text (TOML files are UTF-8); byte offset "
                            f"{exc.start} is not. Re-save it as UTF-8. Received: "
                            f"file={str(path)!r}") from None
    except OSError as exc:
        raise PipelineError(f"{path} must be a readable file ({exc.strerror}). Received: "
                            f"file={str(path)!r}") from None
    config = loads(text, source=str(path), run_config=run_config)
    return config if run_config else resolve_paths(config, path.absolute().parent)
