"""The workflow registry and the contract every task's workflow fulfils.

`Workflow` owns the steps all tasks share, in this order:

    validate()    settings checked before any data is read, once (`check`)
    prepare()     seed -> read data (`load_data`) -> build (`build_model`) -> compile
    fit(run)      run folder -> save config and assets -> train (`training.fit`) -> save the
                  model -> the task's final figures, metrics and plots (`finish`)
    from_run(run) a finished run folder, loaded (`restore` adds the task's own files)
    evaluate(split) the figures of one split (``rnn-pipeline evaluate``), as text lines
                  (`evaluation_lines`) and PNG plots (`evaluation_plots`)

A task supplies the hooks in backquotes above, `save_assets`, `training_callbacks`,
`make_serving_module` and `summary`; it trains through the one `training.fit`, monitoring
``"val_" + metric``.
"""

import contextlib
import time

from rnn_pipeline.tasks import WORKFLOWS
from rnn_pipeline.workflows.exporting import Exporting
from rnn_pipeline.errors import TrainingInterrupted, pipeline_error
from rnn_pipeline.progress import say
from rnn_pipeline.resources import check_memory, recurrent_parts
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.runs.writable import writable



class Workflow(Exporting):
    """What every task's workflow shares.

    Class attributes of a task:
        metric: the Keras metric that training reports and validation monitors
            ("loss", "perplexity", "accuracy", ...).
        loss_of_metric: the epoch rows' loss as a function of ``metric`` (a token task:
            ``math.log`` of the perplexity), or None for Keras' loss (`training.fit`).
        direction: "min" when a lower ``metric`` is better, "max" when a higher one is;
            the plateau schedule, early stopping and the kept epoch follow it.
        run_files: {file name: what it holds} that the task adds to the common run folder
            files (`RunFolder.COMMON_FILES`).
        export_options: the ``serving_module`` options the task takes.

    Args:
        config: a resolved `PipelineConfig`.
        log: callable for progress lines.
    """

    metric = "loss"
    loss_of_metric = None
    direction = "min"
    run_files = {}
    replicas = 1  # set by `validate` from the strategy
    fitted_text = None

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
        """Starts the `tf.distribute` strategy (``train.strategy``), then checks the
        training settings, the task's own (`check`) and its replicas (`check_replicas`),
        once, before any data is read; returns the workflow."""
        if not self._validated:
            from rnn_pipeline.distribute.strategies import is_chief, make_strategy

            self.strategy = make_strategy(self.config.train)  # before TensorFlow runs an op
            self.chief = is_chief(self.strategy)
            self.check_settings(self.strategy.num_replicas_in_sync)
            self._validated = True
        return self

    def check_settings(self, replicas):
        """Every check of the settings that needs neither data nor a strategy, for
        ``replicas`` replicas (the ``--local-workers`` launcher runs it before it starts
        any worker); returns the workflow."""
        from rnn_pipeline.training import make_schedule
        from rnn_pipeline.training.optimizers import check_optimizer
        from rnn_pipeline.training.stopping import make_early_stopping

        self.replicas = replicas
        self.check_replicas()
        if self.config.train.jit_compile and self.replicas > 1:
            raise pipeline_error("train.jit_compile", f"needs one replica, but train."
                                 f"strategy {self.config.train.strategy!r} has "
                                 f"{self.replicas}", True)
        if self.config.train.recurrence == "fused" and self.config.train.jit_compile:
            raise pipeline_error("train.recurrence", "must not be 'fused' with train."
                                 "jit_compile = true: BlockLSTMV2 has no XLA kernel (use "
                                 "'unrolled', or set train.jit_compile = false)", "fused")
        check_optimizer(self.config.train)  # built once, by `prepare`
        make_schedule(self.config.train, self.monitor, self.direction)  # callbacks: cheap
        make_early_stopping(self.config.train, self.monitor, mode=self.direction)
        check_memory(Workflow.memory_parts(self))  # the stack alone, before `check` builds
        self.check()
        return self

    def prepare(self, fitted_text=None):
        """Seeds, reads the data (`load_data`), builds (`build_model`) and compiles the model
        in the scope of the strategy `validate` started; returns the workflow.

        Args:
            fitted_text: {name: `TextPreprocessor` config} of a resumed run, used instead
                of fitting tokenizers and vocabularies again.
        """
        import keras

        from rnn_pipeline.distribute.strategies import replica_chunks
        from rnn_pipeline.training import make_optimizer

        self.validate()
        keras.utils.set_random_seed(self.config.train.seed)
        self.fitted_text = fitted_text
        self.load_data()
        check_memory(self.memory_parts())  # before the model takes any memory
        with self.strategy.scope():
            self.model = self.build_model()
            self.model.compile(optimizer=make_optimizer(self.config.train))
            self.model.optimizer.build(self.model.trainable_variables)
            if self.replicas > 1:
                from rnn_pipeline.distribute.replica_state import per_replica_states

                per_replica_states(self.model)
        # The metrics' variables exist from the start (checkpoints hold them); specs only,
        # so that no iterator advances a reshuffling dataset.
        spec = replica_chunks(self.datasets["train"], self.replicas).element_spec
        self.model._symbolic_build(data_batch=spec)
        return self

    def check_replicas(self):
        """The task's checks of its settings against ``self.replicas`` (no data read)."""

    def check(self):
        """The task's own settings checks (no data read)."""
        raise NotImplementedError

    def load_data(self):
        """Reads the data and sets ``self.datasets`` {"train", "valid", "test": tf.data}."""
        raise NotImplementedError

    def build_model(self):
        """The task's model for the prepared data (not compiled)."""
        raise NotImplementedError

    def memory_parts(self, batch=None, batch_key="train.batch_size"):
        """The terms of the memory the model and a batch need (`resources.MemoryPart`),
        checked before the model is built; by default the recurrent stack over one step
        of ``model.embedding_dim`` (or 1) features. A task adds its embeddings, output
        layer and sequence length.

        Args:
            batch: the batch (default ``train.batch_size``).
            batch_key: the key or option that sets it, for the message.
        """
        model = self.config.model
        batch = self.config.train.batch_size if batch is None else batch
        return recurrent_parts(model, getattr(model, "embedding_dim", 1), batch, 1, batch_key)

    # --- training ---
    def fit(self, run_path, callbacks=(), resume=None):
        """Trains and writes the run folder (the chief only), with checkpoints in
        ``<run>/checkpoints``.

        Args:
            run_path: the run folder to create, or the run being resumed.
            callbacks: extra Keras callbacks.
            resume: a checkpoint of the run (`find_checkpoint`) to continue from.

        Returns:
            the task's final figures (`finish`); None on a worker that is not the chief.

        Raises:
            TrainingInterrupted: SIGINT or SIGTERM, after a checkpoint was written.
        """
        from rnn_pipeline.distribute.replica_state import CarriedState
        from rnn_pipeline.distribute.strategies import any_worker
        from rnn_pipeline.runs.callbacks import close_run_callbacks, run_callbacks
        from rnn_pipeline.training import fit
        from rnn_pipeline.training.checkpoints import Checkpoints
        from rnn_pipeline.training.gradients import GradientLog
        from rnn_pipeline.training.signals import StopSignals

        run = RunFolder(run_path)
        agree = any_worker(self.strategy)
        train = self.config.train

        checkpointer = Checkpoints(run.file(run.CHECKPOINTS), self.model,
                                   CarriedState(self.model, self.strategy), chief=self.chief,
                                   every_steps=train.checkpoint_every,
                                   minutes=train.checkpoint_minutes, agree=agree,
                                   log=self.log if self.chief else None)
        with contextlib.ExitStack() as held:
            held.enter_context(writable(run.path))
            if self.chief:
                held.enter_context(self._start_run(run, resume, checkpointer))
            elif resume is not None:
                checkpointer.check(resume, run.path)
            self.log(f"Model: {self.model.count_params():,} parameters; run folder {run.path}"
                     + (f"; {self.replicas} replicas" if self.replicas > 1 else ""))
            written = (run_callbacks(run, append=resume is not None) if self.chief
                       else [GradientLog()])
            start = time.perf_counter()
            try:
                with StopSignals(agree) as stop:
                    rows = fit(self.model, self.datasets["train"], self.datasets["valid"], train,
                               metric=self.metric, direction=self.direction,
                               loss_of_metric=self.loss_of_metric,
                               log=self.log, strategy=self.strategy,
                               callbacks=[*written, *self.training_callbacks(), *callbacks],
                               checkpoints=checkpointer, resume=resume, stop=stop,
                               on_epoch=run.save_epoch_rows if self.chief else None)
            except TrainingInterrupted as exc:
                exc.run = run.path
                raise
            finally:
                checkpointer.close()
                close_run_callbacks(written)  # when training raised, Keras did not
            return self._finish_training(run, rows, time.perf_counter() - start)

    @contextlib.contextmanager
    def _start_run(self, run, resume, checkpointer):
        """The chief's run folder, locked while it trains (`RunLock`): a new run is created
        with its config and assets; a resumed one is checked against its checkpoint first."""
        from rnn_pipeline.runs.lock import RunLock

        if resume is None:
            run.create()
        with RunLock(run.path, "--resume" if resume is not None else "--run-dir",
                     log=self.log):
            if resume is not None:
                checkpointer.check(resume, run.path)  # before anything in the run changes
                run.save_config(self.config)  # --epochs and the train keys --resume may change
            else:
                run.save_config(self.config)
                self.save_assets(run)
                run.save_fitted_text(self.fitted_text_configs())
            yield

    def _finish_training(self, run, rows, seconds):
        """After the last epoch: one device's model, settled, saved and measured (chief)."""
        if self.replicas > 1:
            self.model = self.single_device_model()
        if not self.chief:
            return None
        self.after_training()
        run.save_model(self.model)
        run.save_trained_with(self.config)
        return self.finish(run, rows, seconds)

    def single_device_model(self):
        """A copy of the trained model outside the strategy (one replica), for saving and
        the final evaluation."""
        replicas, self.replicas = self.replicas, 1
        try:
            copy = self.build_model()  # outside any strategy's scope: one device
        finally:
            self.replicas = replicas
        copy.set_weights([v.numpy() for v in self.model.weights])
        copy.compile(optimizer=self.model.optimizer.__class__.from_config(
            self.model.optimizer.get_config()))
        return copy

    def fitted_text_configs(self):
        """{name: `TextPreprocessor` config} of the tokenizers and vocabularies fitted on the
        training split (kept for --resume); none by default."""
        return {}

    def save_assets(self, run):
        """Writes what the task needs beside the model before training (vocabularies)."""

    def training_callbacks(self):
        """The task's own Keras callbacks during training."""
        return []

    def after_training(self):
        """Settles the trained model before it is saved; nothing by default."""

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
        config = run.load_config()
        run.check_trained_with(config)
        workflow = cls(config, log=log)
        workflow.read_assets(run)  # a missing file is refused before the model loads
        workflow.model = run.load_model()
        workflow.model.compile()
        workflow.restore(run)
        return workflow

    def read_assets(self, run):
        """Reads the task's own files of a finished run (vocabularies), before its model."""

    def restore(self, run):
        """Sets up what needs the loaded model (``self.model``)."""

    def evaluate(self, split, **options):
        """``rnn-pipeline evaluate``: the task's figures of one split of the loaded run, a
        JSON-serialisable dict (saved as ``evaluation/<split>.json``)."""
        raise NotImplementedError

    def evaluation_lines(self, split, figures):
        """The figures `evaluate` returned, as text lines."""
        raise NotImplementedError

    def evaluation_plots(self, split, figures, folder):
        """Writes the task's PNG plots of the figures into ``folder``; returns their paths
        (none by default)."""
        return []

    @staticmethod
    def summary(final):
        """The final figures as text lines."""
        raise NotImplementedError


def get_workflow(task):
    """The workflow class of ``task`` (its declaration, `rnn_pipeline.tasks`)."""
    return WORKFLOWS.get(task)
