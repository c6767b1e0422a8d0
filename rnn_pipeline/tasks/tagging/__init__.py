"""Sequence tagging (POS, NER): one tag per token, from a bidirectional recurrent stack
with a softmax or linear-chain CRF head. Its declaration (`rnn_pipeline.tasks.declaration`)."""

from rnn_pipeline.tasks.declaration import Task, declare_task

TASK = declare_task(Task(
    name="tagging",
    summary="sequence tagging (POS, NER): BiLSTM with softmax or CRF head, token accuracy "
            "and entity F1",
    config="rnn_pipeline.tasks.tagging.config:TaggingConfig",
    workflow="rnn_pipeline.tasks.tagging.workflow:TaggingWorkflow"))
