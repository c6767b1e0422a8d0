"""The one error format: name the argument, state the rule, show what was received."""


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


def pipeline_error(argument, rule, received):
    """Returns a `PipelineError` in the one error format (see `error_message`)."""
    return PipelineError(error_message(argument, rule, received))
