"""Keras models: backbone (ids -> vectors) and tasks (vectors -> predictions).

Importing this package registers every serializable class of every task, so that
``keras.models.load_model`` finds them in any process (not only in one that built them).
"""

from rnn_pipeline.models import distributions, forecaster, seq2seq  # noqa: F401 (registers)
from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.models.builder import build_backbone, build_causal_lm
from rnn_pipeline.models.causal_lm import CausalLM
from rnn_pipeline.models.cells import CELLS

__all__ = ["CELLS", "CausalLM", "RNNBackbone", "build_backbone", "build_causal_lm"]
