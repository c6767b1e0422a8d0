"""A development server for exports: the subset of TF Serving's REST API clients use."""

from rnn_pipeline.serving.server import make_server

__all__ = ["make_server"]
