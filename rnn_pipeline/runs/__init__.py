"""Run folders: what a training run leaves behind, and reading it back."""

from rnn_pipeline.runs.folder import RunFolder, new_run_path

__all__ = ["RunFolder", "new_run_path"]
