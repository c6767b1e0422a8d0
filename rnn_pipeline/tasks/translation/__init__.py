"""The ``translation`` task: its declaration (`rnn_pipeline.tasks.declaration`)."""

from rnn_pipeline.tasks.declaration import Task, declare_task

TASK = declare_task(Task(
    name="translation",
    summary="encoder-decoder translation with attention, BLEU and chrF",
    config="rnn_pipeline.tasks.translation.config:TranslationConfig",
    workflow="rnn_pipeline.tasks.translation.workflow:TranslationWorkflow"))
