"""Pipeline configuration: typed dataclasses parsed from TOML files."""

from rnn_pipeline.config.loader import apply_overrides, dumps, load, loads
from rnn_pipeline.config.schema import (
    DataConfig,
    DecodeConfig,
    ModelConfig,
    PairsConfig,
    PipelineConfig,
    SeriesConfig,
    TextConfig,
    TrainConfig,
)

__all__ = [
    "DataConfig", "DecodeConfig", "ModelConfig", "PairsConfig", "PipelineConfig", "SeriesConfig", "TextConfig", "TrainConfig",
    "apply_overrides", "dumps", "load", "loads",
]
