"""What every command shares: one-line user errors, value types and run loading."""

import contextlib
import math
import sys

import click

from rnn_pipeline import api
from rnn_pipeline.errors import PipelineError


class PipelineUsageError(click.UsageError):
    """A user's mistake: shown as one ``Error: ...`` line, exit code 2."""


class OneLineGroup(click.Group):
    """A group whose errors are one ``Error: ...`` line on stderr: click's own usage
    errors (a bad option value, a missing argument) too, with a pointer to ``--help``
    instead of the usage block."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(f"Error: {one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def one_line(exc):
    """The message of a click exception on one line; a usage error of click's own names
    the ``--help`` of its command."""
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and not isinstance(exc, PipelineUsageError) \
            and exc.ctx is not None:
        message += f" (see: {exc.ctx.command_path} --help)"
    return message


class FiniteFloatRange(click.FloatRange):
    """`click.FloatRange` that also refuses nan and inf (they pass every range check)."""

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        if not math.isfinite(value):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return value


def not_blank(ctx, param, values):
    """A click callback: refuses an empty (or whitespace-only) value of a text option."""
    for value in values if isinstance(values, tuple) else (values,):
        if value is not None and not value.strip():
            raise click.BadParameter(f"must not be empty (there is nothing to work on). "
                                     f"Received: {param.opts[0]}={value!r}", ctx, param)
    return values


@contextlib.contextmanager
def user_errors():
    """Turns a `PipelineError` into a `PipelineUsageError`."""
    try:
        yield
    except PipelineError as exc:
        raise PipelineUsageError(str(exc)) from None


def run_workflow(run, config_class=None, what=None):
    """The workflow of run folder ``run``, loaded; with ``config_class``, the run must be of
    its task."""
    return api.load_run(run, config_class, what, log=click.echo)
