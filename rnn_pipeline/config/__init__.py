"""Pipeline configuration: typed dataclasses parsed from TOML files. The sections several
tasks share are here (`schema`); each task's config class and own sections are in its
folder (``rnn_pipeline/tasks/<task>/config.py``), found through its declaration
(`TASK_CONFIGS`)."""

from rnn_pipeline.config.loader import (apply_overrides, dumps, load, loads,
                                        pipeline_from_dict)
from rnn_pipeline.config.schema import (
    DataConfig,
    EmbeddingsConfig,
    ModelConfig,
    PipelineConfig,
    RecurrentConfig,
    TextConfig,
    TrainConfig,
    Word2VecConfig,
)
from rnn_pipeline.tasks import TASK_CONFIGS

__all__ = [
    "DataConfig", "EmbeddingsConfig", "ModelConfig", "PipelineConfig", "RecurrentConfig",
    "TASK_CONFIGS", "TextConfig", "TrainConfig", "Word2VecConfig",
    "apply_overrides", "dumps", "load", "loads", "pipeline_from_dict",
]
