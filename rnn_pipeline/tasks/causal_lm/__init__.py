"""The ``causal_lm`` task: its declaration (`rnn_pipeline.tasks.declaration`)."""

from rnn_pipeline.tasks.declaration import Task, declare_task

TASK = declare_task(Task(
    name="causal_lm",
    summary="word-level language model: next-word softmax, perplexity, generation",
    config="rnn_pipeline.tasks.causal_lm.config:LanguageModelConfig",
    workflow="rnn_pipeline.tasks.causal_lm.workflow:LanguageModelWorkflow"))
