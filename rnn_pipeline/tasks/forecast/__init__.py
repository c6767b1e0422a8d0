"""The ``forecast`` task: its declaration (`rnn_pipeline.tasks.declaration`)."""

from rnn_pipeline.tasks.declaration import Task, declare_task

TASK = declare_task(Task(
    name="forecast",
    summary="time-series forecasting from a CSV, against naive and linear baselines",
    config="rnn_pipeline.tasks.forecast.config:ForecastConfig",
    workflow="rnn_pipeline.tasks.forecast.workflow:ForecastWorkflow"))
