"""One folder per task (keras-hub's folder per model family): each declares itself in
its ``__init__`` (`declaration.Task`) and owns its config, data, head, workflow and
serving module; the shared machinery (cells, backbone, training, distribution, export,
serving, config loader, tokenizers) stays horizontal. Importing this package declares
every task folder it holds, without TensorFlow."""

import importlib
import pkgutil

from rnn_pipeline.tasks.declaration import (TASK_CONFIGS, TASKS, WORKFLOWS, Task,
                                            declare_task, import_task_classes, task_config,
                                            task_workflow)

for _folder in pkgutil.iter_modules(__path__):
    if _folder.ispkg:
        importlib.import_module(f"{__name__}.{_folder.name}")

__all__ = ["TASKS", "TASK_CONFIGS", "Task", "WORKFLOWS", "declare_task", "import_task_classes",
           "task_config", "task_workflow"]
