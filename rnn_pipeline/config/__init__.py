"""Pipeline configuration: typed dataclasses parsed from TOML files, one class per task."""

from rnn_pipeline.config.loader import (apply_overrides, dumps, load, loads,
                                        pipeline_from_dict)
from rnn_pipeline.config.schema import (
    DataConfig,
    DecodeConfig,
    EmbeddingsConfig,
    ForecastModelConfig,
    ModelConfig,
    PairsConfig,
    PipelineConfig,
    RecurrentConfig,
    SeriesConfig,
    TextConfig,
    TrainConfig,
    TranslationModelConfig,
    Word2VecConfig,
)
from rnn_pipeline.config.tasks import (TASK_CONFIGS, ForecastConfig, LanguageModelConfig,
                                       TranslationConfig)

__all__ = [
    "DataConfig", "DecodeConfig", "EmbeddingsConfig", "ForecastConfig", "ForecastModelConfig",
    "LanguageModelConfig", "ModelConfig", "PairsConfig", "PipelineConfig", "RecurrentConfig",
    "SeriesConfig", "TASK_CONFIGS", "TextConfig", "TrainConfig", "TranslationConfig",
    "TranslationModelConfig", "Word2VecConfig",
    "apply_overrides", "dumps", "load", "loads", "pipeline_from_dict",
]
