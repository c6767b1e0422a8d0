"""A development server for exports: the subset of TF Serving's REST API clients use.

`make_server` imports TensorFlow when first used, so that the CLI can read `ServeLimits`
without it."""

__all__ = ["make_server"]


def __getattr__(name):
    if name == "make_server":
        from rnn_pipeline.serving.server import make_server

        return make_server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
