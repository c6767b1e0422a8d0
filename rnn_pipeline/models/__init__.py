"""Keras models: backbone (ids -> vectors) and tasks (vectors -> predictions)."""

from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.models.builder import build_backbone, build_causal_lm
from rnn_pipeline.models.causal_lm import CausalLM
from rnn_pipeline.models.cells import CELLS

__all__ = ["CELLS", "CausalLM", "RNNBackbone", "build_backbone", "build_causal_lm"]
