"""The shared model layer: cells, the backbones (ids -> vectors, `RNNBackbone`; float
frames -> vectors, `FrameBackbone`; one recurrent encoder, `encoder`) and the task-model base
(`task.Task`); each task's own model is in its folder (``rnn_pipeline/tasks/<task>/``).

A task's serializable classes register when its model module is imported; a run's
``model.keras`` is loaded after `rnn_pipeline.tasks.import_task_classes` has imported every
declared task's, so that ``keras.models.load_model`` finds them in any process (not only
in one that built them).
"""

from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.models.builder import build_backbone
from rnn_pipeline.models.cells import CELLS
from rnn_pipeline.models.encoder import FrameBackbone

__all__ = ["CELLS", "FrameBackbone", "RNNBackbone", "build_backbone"]
