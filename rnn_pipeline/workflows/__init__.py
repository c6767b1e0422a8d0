"""Workflows by task name (one registry): what ``fit`` and ``evaluate`` do for a task."""

from rnn_pipeline.workflows.base import WORKFLOWS, get_workflow
from rnn_pipeline.workflows import forecast, language_model, translation  # noqa: F401

__all__ = ["WORKFLOWS", "get_workflow"]
