"""Pipeline configuration: typed dataclasses parsed from TOML files."""

from rnn_pipeline.config.loader import apply_overrides, dumps, load, loads
from rnn_pipeline.config.schema import (
    DataConfig,
    DecodeConfig,
    EmbeddingsConfig,
    ModelConfig,
    PairsConfig,
    PipelineConfig,
    SeriesConfig,
    TextConfig,
    TrainConfig,
    Word2VecConfig,
)

__all__ = [
    "DataConfig", "DecodeConfig", "EmbeddingsConfig", "ModelConfig", "PairsConfig",
    "PipelineConfig", "SeriesConfig", "TextConfig", "TrainConfig", "Word2VecConfig",
    "apply_overrides", "dumps", "load", "loads",
]
