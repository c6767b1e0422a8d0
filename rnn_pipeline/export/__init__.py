"""Exports for TensorFlow Serving: SavedModel versions, warmup requests, models.config."""

from rnn_pipeline.export.saved_model import export_saved_model

__all__ = ["export_saved_model"]
