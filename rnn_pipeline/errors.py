"""The one error format: name the argument, state the rule, show what was received."""

import contextlib


class PipelineError(ValueError):
    """A user's mistake in a pipeline, its data or a command-line value."""


def error_message(argument, rule, received):
    """Builds ``"<argument> <rule>. Received: <argument>=<received!r>"``.

    Args:
        argument: the config key, option or file the rule is about.
        rule: what the value must be, e.g. "must be one of: 'gru', 'lstm'".
        received: the offending value.
    """
    return f"{argument} {rule}. Received: {argument}={received!r}"


class ArgumentError(PipelineError):
    """A `PipelineError` about one argument, which keeps its parts so that the config
    boundary can name the config key instead (`config_keys`)."""

    def __init__(self, argument, rule, received):
        super().__init__(error_message(argument, rule, received))
        self.argument, self.rule, self.received = argument, rule, received


def pipeline_error(argument, rule, received):
    """Returns a `PipelineError` in the one error format (see `error_message`)."""
    return ArgumentError(argument, rule, received)


@contextlib.contextmanager
def config_keys(keys):
    """Re-raises an `ArgumentError` about a constructor argument under its config key.

    Models name their own arguments ("Received: units=0"); the code that builds them from
    a pipeline says which key of the file that is ("Received: model.units=0").

    Args:
        keys: {argument name: config key}, e.g. {"units": "model.units"}.
    """
    try:
        yield
    except ArgumentError as exc:
        if exc.argument not in keys:
            raise
        raise ArgumentError(keys[exc.argument], exc.rule, exc.received) from None


class TrainingStopped(RuntimeError):
    """Training stopped on a fault that is not a usage mistake (exit code 1): a run folder
    that cannot be written, a NaN or Inf loss (`TrainingDiverged`)."""


class TrainingDiverged(TrainingStopped):
    """Training met a NaN or Inf loss or gradient and was stopped (not a usage mistake)."""


class TrainingInterrupted(Exception):
    """SIGINT or SIGTERM stopped training after a checkpoint was written.

    Args:
        signal_number: the signal received.
        position: where training stopped (a `training.loop.Position`).
    """

    def __init__(self, signal_number, position):
        super().__init__(f"interrupted by signal {signal_number}")
        self.signal_number, self.position = signal_number, position
        self.run = None  # the run folder, set by the workflow
