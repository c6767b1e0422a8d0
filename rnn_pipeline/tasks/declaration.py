"""A task, declared once, in its folder: its name, a line for ``rnn-pipeline list``, its
pipeline config class and its workflow class. The task registry (`TASKS`), the config
loader (`task_config`), the workflow lookup (`task_workflow`) and ``list`` all read the
declaration; nothing else names the task.

A declaration names its classes as ``"module:Class"`` strings, so declaring (and
checking a pipeline file's ``task``) imports neither TensorFlow nor the task's code;
a class itself works too (a task declared by a test module).
"""

import importlib
from dataclasses import dataclass

from rnn_pipeline.registry import Registry

TASKS = Registry("task")  # name -> `Task`


@dataclass(frozen=True)
class Task:
    """One task.

    Args:
        name: the pipeline's ``task`` value (lowercase).
        summary: what it does, one line (``rnn-pipeline list``).
        config: its `PipelineConfig` subclass, or ``"module:Class"``.
        workflow: its `Workflow` subclass, or ``"module:Class"`` (imported on first use).
    """

    name: str
    summary: str
    config: object
    workflow: object

    def config_class(self):
        return _resolve(self.config)

    def workflow_class(self):
        return _resolve(self.workflow)


def _resolve(target):
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def declare_task(task):
    """Registers ``task`` (a `Task`) under its name; returns it."""
    return TASKS.register(task.name)(task)


def import_task_classes():
    """Imports every declared task's workflow, and with it the task's model module, whose
    import registers its Keras classes: a run's ``model.keras`` then loads in any process
    (`RunFolder.load_model`), not only in one that built the model."""
    for name in TASKS.names():
        TASKS.get(name).workflow_class()


def task_config(name, argument="task"):
    """The pipeline config class of task ``name``; an unknown one lists the valid ones."""
    return TASKS.get(name, argument).config_class()


def task_workflow(name, argument="task"):
    """The workflow class of task ``name``; an unknown one lists the valid ones."""
    return TASKS.get(name, argument).workflow_class()


class TaskLookup:
    """A read-only registry view of one part of every declaration (its config or its
    workflow class), with the registry's ``names``/``check``/``get``.

    Args:
        resolve: ``(name, argument) -> class``, e.g. `task_config`.
    """

    argument = TASKS.argument

    def __init__(self, resolve):
        self._resolve = resolve

    def names(self):
        return TASKS.names()

    def check(self, name, argument=None):
        return TASKS.check(name, argument)

    def get(self, name, argument=None):
        return self._resolve(name, argument or "task")

    def __contains__(self, name):
        return name in TASKS


TASK_CONFIGS = TaskLookup(task_config)  # task -> its `PipelineConfig` subclass
WORKFLOWS = TaskLookup(task_workflow)  # task -> its `Workflow` subclass
