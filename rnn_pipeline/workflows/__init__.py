"""Workflows by task name (one registry): what ``fit`` and ``evaluate`` do for a task."""

from rnn_pipeline.workflows.base import WORKFLOWS, get_workflow
from rnn_pipeline.workflows import forecast, language_model  # noqa: F401  (registration)

__all__ = ["WORKFLOWS", "get_workflow"]
