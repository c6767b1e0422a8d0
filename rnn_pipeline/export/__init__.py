"""Exports for TensorFlow Serving: SavedModel versions, warmup requests, models.config.

`export_saved_model` is imported on first use, so that the light `layout` checks (names,
versions) run before TensorFlow starts.
"""

__all__ = ["export_saved_model"]


def __getattr__(name):
    if name == "export_saved_model":
        from rnn_pipeline.export.saved_model import export_saved_model

        return export_saved_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
