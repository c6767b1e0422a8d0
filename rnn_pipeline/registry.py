"""Named choices (cells, tokenizers, optimizers, ...): one registry per choice."""

import importlib

from rnn_pipeline.errors import pipeline_error


class Registry:
    """Maps lowercase names to objects; unknown names raise an error listing the valid ones.

    A registry may declare its names and the module that registers them
    (`rnn_pipeline.choices`): its names are then known, and checked, without importing
    that module (and TensorFlow); `get` imports it on first use.

    Args:
        argument: the config key this registry answers, e.g. "model.cell".
        names: the declared names.
        module: the module whose import registers the declared names.
    """

    def __init__(self, argument, names=(), module=None):
        self.argument = argument
        self.declared = tuple(names)
        self.module = module
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

    def unregister(self, name):
        """Removes ``name`` (a test's own entry); an unknown name is a KeyError."""
        del self._entries[name]

    def names(self):
        return sorted({*self.declared, *self._entries})

    def check(self, name, argument=None):
        """Returns ``name`` if it is a valid choice, without loading its entry."""
        if name not in self.names():
            choices = ", ".join(repr(n) for n in self.names())
            raise pipeline_error(argument or self.argument, f"must be one of: {choices}", name)
        return name

    def get(self, name, argument=None):
        """Returns the entry for ``name``.

        Args:
            name: the registered name.
            argument: overrides the argument named in the error message.
        """
        self.check(name, argument)
        if name not in self._entries and self.module is not None:
            importlib.import_module(self.module)
        return self._entries[name]

    def __contains__(self, name):
        return name in self.names()
