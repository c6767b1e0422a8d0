"""Which pipeline keys take a named choice, and in which tasks' pipelines (``rnn-pipeline
list``): read from the config classes themselves (a field's ``metadata["choices"]``)."""

import dataclasses
import typing

from rnn_pipeline import choices
from rnn_pipeline.tasks import TASK_CONFIGS


def _choice_fields(cls, prefix=""):
    """[(dotted key, registry)] of dataclass ``cls`` and its sections."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            out += _choice_fields(hints[f.name], f"{prefix}{f.name}.")
        elif f.metadata.get("choices") is not None:
            out.append((f"{prefix}{f.name}", f.metadata["choices"]))
    return out


def choice_rows():
    """``rnn-pipeline list``'s choices: [(key, description)], sorted by key, one row per
    key and set of names. A key that only some tasks have says which, as ``[task, ...]``
    before the names (``model.head`` is one key of several tasks, with its own names in
    each); a registry no pipeline key takes is a command option (``sampler``)."""
    tasks = TASK_CONFIGS.names()
    owners = {}  # (key, registry id) -> [task]
    registries = {}
    for task in tasks:
        for key, registry in _choice_fields(TASK_CONFIGS.get(task)):
            owners.setdefault((key, id(registry)), []).append(task)
            registries[id(registry)] = registry
    rows = [("task", ", ".join(choices.TASKS.names()))]
    for (key, registry_id), owned_by in sorted(owners.items(), key=lambda o: (o[0][0], o[1])):
        names = ", ".join(registries[registry_id].names())
        where = "" if len(owned_by) == len(tasks) else f"[{', '.join(owned_by)}] "
        rows.append((key, where + names))
    for registry in choices.ALL:  # no pipeline key: a command-line option
        if id(registry) not in registries and registry is not choices.TASKS:
            rows.append((registry.argument, f"[option --{registry.argument}] "
                                            f"{', '.join(registry.names())}"))
    return rows
