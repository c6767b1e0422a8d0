"""Speech recognition from WAV files: log-mel frames in the graph, a bidirectional
recurrent encoder, a classifier or CTC head. Its declaration (`rnn_pipeline.tasks.declaration`)."""

from rnn_pipeline.tasks.declaration import Task, declare_task

TASK = declare_task(Task(
    name="speech",
    summary="speech recognition from WAV files: log-mel frames, BiLSTM, classify or CTC "
            "head, accuracy or WER/CER",
    config="rnn_pipeline.tasks.speech.config:SpeechConfig",
    workflow="rnn_pipeline.tasks.speech.workflow:SpeechWorkflow"))
