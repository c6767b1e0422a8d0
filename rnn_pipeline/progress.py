"""The default progress log of the library."""


def say(message):
    """A flushed line on stdout."""
    print(message, flush=True)
