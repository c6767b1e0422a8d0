"""The workflow registry."""

from rnn_pipeline.registry import Registry

WORKFLOWS = Registry("task")


def say(message):
    """The default progress log: a flushed line on stdout."""
    print(message, flush=True)


class Workflow:
    """What every task's workflow shares.

    Args:
        config: a resolved `PipelineConfig`.
        log: callable for progress lines.
    """

    def __init__(self, config, log=say):
        self.config = config
        self.log = log


def get_workflow(task):
    """The workflow class registered for ``task`` (e.g. "causal_lm")."""
    return WORKFLOWS.get(task)
