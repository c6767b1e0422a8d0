"""Workflows by task name: what ``fit`` and ``evaluate`` do for a task; each task's
declaration (`rnn_pipeline.tasks`) names its class, imported on first use."""

from rnn_pipeline.workflows.base import WORKFLOWS, get_workflow

__all__ = ["WORKFLOWS", "get_workflow"]
