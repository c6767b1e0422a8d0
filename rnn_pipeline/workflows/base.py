"""The workflow registry."""

from rnn_pipeline.registry import Registry

WORKFLOWS = Registry("task")


def get_workflow(task):
    """The workflow class registered for ``task`` (e.g. "causal_lm")."""
    return WORKFLOWS.get(task)
