"""Named choices (cells, tokenizers, optimizers, ...): one registry per choice."""

from rnn_pipeline.errors import pipeline_error


class Registry:
    """Maps lowercase names to objects; unknown names raise an error listing the valid ones.

    Args:
        argument: the config key this registry answers, e.g. "model.cell".
    """

    def __init__(self, argument):
        self.argument = argument
        self._entries = {}

    def register(self, name):
        """Decorator that registers ``obj`` under ``name`` (lowercase)."""
        if name != name.lower():
            raise ValueError(f"Registry names are lowercase. Received: name={name!r}")

        def decorator(obj):
            if name in self._entries:
                raise ValueError(f"{self.argument}: {name!r} is registered twice.")
            self._entries[name] = obj
            return obj

        return decorator

    def names(self):
        return sorted(self._entries)

    def get(self, name, argument=None):
        """Returns the entry for ``name``.

        Args:
            name: the registered name.
            argument: overrides the argument named in the error message.
        """
        if name not in self._entries:
            choices = ", ".join(repr(n) for n in self.names())
            raise pipeline_error(argument or self.argument, f"must be one of: {choices}", name)
        return self._entries[name]

    def __contains__(self, name):
        return name in self._entries
