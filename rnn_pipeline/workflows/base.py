"""The workflow registry and the contract every task's workflow fulfils.

`Workflow` owns the steps all tasks share, in this order:

    validate()    settings checked before any data is read, once (`check`)
    prepare()     seed -> read data (`load_data`) -> build (`build_model`) -> compile
    fit(run)      run folder -> save config and assets -> train (`training.fit`) -> save the
                  model -> the task's final figures, metrics and plots (`finish`)
    from_run(run) a finished run folder, loaded (`restore` adds the task's own files)

A task supplies the hooks in backquotes above, `save_assets`, `training_callbacks`,
`evaluation_lines`, `make_serving_module` and `summary`; it trains through the one
`training.fit`, monitoring ``"val_" + metric``.
"""

import time

from rnn_pipeline.choices import TASKS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.progress import say
from rnn_pipeline.runs import RunFolder

WORKFLOWS = TASKS  # the workflow of each task


class Workflow:
    """What every task's workflow shares.

    Class attributes of a task:
        metric: the Keras metric that training reports and validation monitors
            ("perplexity" or "loss").
        run_files: {file name: what it holds} that the task adds to the common run folder
            files (`RunFolder.COMMON_FILES`).
        export_options: the ``serving_module`` options the task takes.

    Args:
        config: a resolved `PipelineConfig`.
        log: callable for progress lines.
    """

    metric = "perplexity"
    run_files = {}
    export_options = ()

    def __init__(self, config, log=say):
        self.config = config
        self.log = log
        self._validated = False

    @property
    def monitor(self):
        """The validation figure that schedules and early stopping watch."""
        return f"val_{self.metric}"

    # --- preparation: everything that can fail on user input, nothing written ---
    def validate(self):
        """Checks the training settings and the task's own (`check`), once, before any data
        is read; returns the workflow."""
        if not self._validated:
            from rnn_pipeline.training import make_optimizer, make_schedule
            from rnn_pipeline.training.stopping import make_early_stopping

            make_optimizer(self.config.train)
            make_schedule(self.config.train, self.monitor)
            make_early_stopping(self.config.train, self.monitor)
            self.check()
            self._validated = True
        return self

    def prepare(self):
        """Seeds, reads the data (`load_data`), builds (`build_model`) and compiles the
        model inside the current `tf.distribute` strategy; returns the workflow."""
        import keras
        import tensorflow as tf

        from rnn_pipeline.training import make_optimizer

        self.validate()
        keras.utils.set_random_seed(self.config.train.seed)
        optimizer = make_optimizer(self.config.train)
        self.load_data()
        with tf.distribute.get_strategy().scope():
            self.model = self.build_model()
            self.model.compile(optimizer=optimizer)
        return self

    def check(self):
        """The task's own settings checks (no data read)."""
        raise NotImplementedError

    def load_data(self):
        """Reads the data and sets ``self.datasets`` {"train", "valid", "test": tf.data}."""
        raise NotImplementedError

    def build_model(self):
        """The task's model for the prepared data (not compiled)."""
        raise NotImplementedError

    # --- training ---
    def fit(self, run_path, callbacks=()):
        """Trains and writes the run folder.

        Args:
            run_path: the run folder to create.
            callbacks: extra Keras callbacks.

        Returns:
            the task's final figures (`finish`).
        """
        from rnn_pipeline.runs.callbacks import run_callbacks
        from rnn_pipeline.training import fit

        run = RunFolder(run_path).create()
        run.save_config(self.config)
        self.save_assets(run)
        self.log(f"Model: {self.model.count_params():,} parameters; run folder {run.path}")
        start = time.perf_counter()
        rows = fit(self.model, self.datasets["train"], self.datasets["valid"], self.config.train,
                   metric=self.metric,
                   callbacks=[*run_callbacks(run), *self.training_callbacks(), *callbacks],
                   log=self.log)
        seconds = time.perf_counter() - start
        run.save_model(self.model)
        return self.finish(run, rows, seconds)

    def save_assets(self, run):
        """Writes what the task needs beside the model before training (vocabularies)."""

    def training_callbacks(self):
        """The task's own Keras callbacks during training."""
        return []

    def finish(self, run, rows, seconds):
        """After training: final figures, ``metrics.json``/``.csv`` and plots.

        Args:
            run: the `RunFolder`.
            rows: the per-epoch rows of `training.fit`.
            seconds: training wall time.
        """
        raise NotImplementedError

    # --- a finished run ---
    @classmethod
    def from_run(cls, run_path, log=say):
        """The workflow of a finished run folder, with its trained model loaded."""
        run = RunFolder(run_path).check_exists()
        workflow = cls(run.load_config(), log=log)
        workflow.model = run.load_model()
        workflow.model.compile()
        workflow.restore(run)
        return workflow

    def restore(self, run):
        """Reads the task's own files of a loaded run."""

    def evaluation_lines(self, split, **options):
        """``rnn-pipeline evaluate``: the figures of one split as text lines."""
        raise NotImplementedError

    def serving_module(self, assets_dir, **options):
        """The TF Serving module (a `tf.Module` with signatures) of the trained model.

        Args:
            assets_dir: folder for the export's assets.
            **options: `export_options` of the task; None keeps an option's default.
        """
        given = self.check_export_options(self.config.task, options)
        return self.make_serving_module(assets_dir, **given)

    @classmethod
    def check_export_options(cls, task, options):
        """The options that are set (not None); one the task does not take is an error.

        Args:
            task: the run's task name, for the message.
            options: {option: value or None}.
        """
        given = {key: value for key, value in options.items() if value is not None}
        for key, value in given.items():
            if key not in cls.export_options:
                takers = [repr(n) for n in WORKFLOWS.names()
                          if key in WORKFLOWS.get(n).export_options]
                option = f"--{key.replace('_', '-')}"
                raise pipeline_error(option, f"applies to {' and '.join(takers)} runs only, "
                                     f"not to a {task!r} run", value)
        return given

    def make_serving_module(self, assets_dir, **options):
        raise NotImplementedError

    @staticmethod
    def summary(final):
        """The final figures as text lines."""
        raise NotImplementedError


def get_workflow(task):
    """The workflow class registered for ``task`` (`rnn_pipeline.choices.TASKS`)."""
    return WORKFLOWS.get(task)
