"""``rnn-pipeline diagnose``: gradient norms through time per cell; for a run also its
clipping and how large its carried state grows on the validation split.

Every cell is measured on the same windows of the pipeline's training text, freshly
initialised and after training: a RUN's own cell uses the run's trained weights; every
other cell is trained for ``train_steps`` steps with the pipeline's optimizer first.
"""

import csv
import dataclasses
from pathlib import Path

import numpy as np

from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.diagnostics.bounds import simple_rnn_bounds
from rnn_pipeline.diagnostics.forward_state import forward_state_peaks
from rnn_pipeline.diagnostics.plots import plot_clipping, plot_through_time
from rnn_pipeline.diagnostics.through_time import decay_per_step, state_gradient_norms
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
from rnn_pipeline.models.cells import CELLS
from rnn_pipeline.progress import RunClock
from rnn_pipeline.resources import check_memory
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.training import make_optimizer
from rnn_pipeline.training.gradients import read_gradient_log
from rnn_pipeline.training.trainer import ProgressLines
from rnn_pipeline.workflows.base import say

THROUGH_TIME_CSV = "gradients_through_time.csv"
THROUGH_TIME_PNG = "gradients_through_time.png"
CLIPPING_PNG = "clipping.png"
STATE_WINDOWS = 500  # validation windows read for the forward-state line


def check_cells(names):
    """Validates a list of cell names against the cell registry."""
    for name in names:
        CELLS.get(name, argument="--cells")
    if not names:
        raise pipeline_error("--cells", "must name at least one cell", "")
    return list(dict.fromkeys(names))


def sample_windows(stream, steps, batch):
    """``batch`` windows of ``steps`` tokens at evenly spaced offsets of the training stream.

    Returns:
        (token_ids, targets), int32 arrays (batch, steps): targets are shifted by one.
    """
    if len(stream) < steps + 2:
        raise pipeline_error("--steps", f"must be shorter than the training text "
                             f"({len(stream)} tokens)", steps)
    if batch > len(stream) - steps:
        raise pipeline_error("--batch", f"must be at most the {len(stream) - steps:,} windows "
                             f"of --steps {steps} tokens the training text has", batch)
    offsets = np.linspace(0, len(stream) - steps - 1, batch).astype(int)
    ids = np.stack([stream[o:o + steps] for o in offsets]).astype(np.int32)
    targets = np.stack([stream[o + 1:o + steps + 1] for o in offsets]).astype(np.int32)
    return ids, targets


class GradientDiagnosis:
    """Args:
        config: the pipeline (or the run's) `PipelineConfig`; ``task`` must be causal_lm.
        train_data: tf.data training windows (`LanguageModelWorkflow.windows`).
        vocabulary_size: number of token ids.
        trained: {cell: trained `CausalLM`} already available (a run's model).
        log: callable for progress lines.
    """

    def __init__(self, config, train_data, vocabulary_size, trained=None, log=say):
        self.config, self.train_data, self.vocabulary_size = config, train_data, vocabulary_size
        self.trained = dict(trained or {})
        self.log = log

    def _model(self, cell):
        model_config = dataclasses.replace(self.config.model, cell=cell)
        return build_causal_lm(model_config, self.vocabulary_size, seed=self.config.train.seed,
                               stateful=False)

    def _train(self, model, train_steps, progress):
        model.compile(optimizer=make_optimizer(self.config.train))
        model.fit(self.train_data.repeat(), steps_per_epoch=train_steps, epochs=1, verbose=0,
                  shuffle=False, callbacks=[progress])  # a dataset: shuffled upstream
        return model

    def run(self, cells, windows, train_steps):
        """Measures every cell fresh and trained.

        Args:
            cells: cell names.
            windows: (token_ids, targets) from `sample_windows`.
            train_steps: training steps of a cell without trained weights.

        Returns:
            (curves {(cell, state): (layers, T) norms}, lines for the reader).
        """
        ids, targets = windows
        curves, lines = {}, []
        untrained = [cell for cell in cells if cell not in self.trained]
        clock = RunClock(len(untrained))  # the diagnosis' ETA: the cells still to train
        for cell in cells:
            model = self._model(cell)
            curves[(cell, "fresh")] = state_gradient_norms(model, ids, targets)
            fresh_bounds = simple_rnn_bounds(model.backbone)
            if cell in self.trained:
                model, how = self.trained[cell], "the run's trained weights"
            else:
                self.log(f"{cell}: training {train_steps} steps ...")
                progress = CellTrainingLines(self.log, clock, untrained.index(cell), cell)
                model, how = (self._train(model, train_steps, progress),
                              f"after {train_steps} steps")
            curves[(cell, "trained")] = state_gradient_norms(model, ids, targets)
            lines.append(conclusion(cell, curves[(cell, "fresh")], curves[(cell, "trained")],
                                    how))
            lines += [f"  fresh {bound.line()}" for bound in fresh_bounds]
            lines += [f"  trained {bound.line()}" for bound in simple_rnn_bounds(model.backbone)]
        return curves, lines


class CellTrainingLines(ProgressLines):
    """Progress lines of one cell's training (a tenth of its steps apart), with the ETA of
    the whole diagnosis: the cells still to train after it take as long.

    Args:
        log: callable receiving each line.
        clock: the diagnosis' `RunClock` (one part per cell to train).
        part: this cell's part of it.
        cell: the cell's name.
    """

    eta = "diagnosis ETA"

    def __init__(self, log, clock, part, cell):
        super().__init__(log, every=0.1)
        self.clock, self.part, self.cell = clock, part, cell

    def on_train_begin(self, logs=None):
        """The diagnosis' clock goes on (not one per cell)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.clock.begin(self.part)
        self._what, self._next = f"{self.cell} training", 1


def conclusion(cell, fresh, trained, how):
    """One line a student can read: how much of the gradient survives T - 1 steps."""
    parts = []
    for label, norms in (("fresh", fresh), (how, trained)):
        change, distance = decay_per_step(norms[0])
        if norms[0][0] == 0:
            parts.append(f"{label}: falls by more than 10^{change:+.0f} (underflows to 0)")
        else:
            verb = "falls" if change < 0 else "grows"
            parts.append(f"{label}: {verb} by a factor 10^{change:+.1f}")
    return (f"{cell}: over the {distance} steps before the loss, the gradient of the first "
            f"layer's state {'; '.join(parts)}")


def write_through_time(curves, path):
    """CSV rows: cell, state, layer, t, distance, norm."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["cell", "state", "layer", "t", "distance", "norm"])
        for (cell, state), norms in curves.items():
            layers, steps = norms.shape
            for layer in range(layers):
                for t in range(steps):
                    writer.writerow([cell, state, layer, t + 1, steps - 1 - t,
                                     f"{norms[layer, t]:.6g}"])


def diagnose(config, out, cells, steps=50, batch=16, train_steps=200, run=None, log=say):
    """Runs the diagnosis and writes CSV and PNGs into ``out``.

    Args:
        config: a causal_lm `PipelineConfig` (a run's own config when ``run`` is given).
        out: output folder (created).
        cells: cell names to compare.
        steps: T, the window length.
        batch: windows averaged over.
        train_steps: training steps of every cell without trained weights.
        run: a run folder: its trained model stands for its cell, its per-step
            gradient log is drawn as ``clipping.png``, and its carried state is followed
            through the validation split.
        log: callable for progress and result lines.

    Returns:
        the files written.
    """
    from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow

    if run is not None and not isinstance(config, LanguageModelConfig):
        raise pipeline_error("RUN", f"must be a language-model run: diagnose measures language "
                             f"models, and this is a {config.task!r} run", str(run))
    if not isinstance(config, LanguageModelConfig):
        raise pipeline_error("task", f"must be {LanguageModelConfig.task!r}: diagnose "
                             f"measures language models", config.task)
    if run is not None:
        workflow = LanguageModelWorkflow.from_run(run, log=log)
        streams = workflow.run_streams(("train", "valid"))
        trained = {config.model.cell: workflow.model}
    else:
        workflow = LanguageModelWorkflow(config, log=log).validate().prepare()
        streams, trained = workflow.streams, {}
    stream = streams["train"]
    windows = sample_windows(stream, steps, batch)  # may refuse --steps: before any writing
    check_memory(workflow.memory_parts(batch, "--batch", steps), purpose="diagnosing")
    diagnosis = GradientDiagnosis(config, workflow.windows(stream), len(workflow.vocabulary),
                                  trained, log)
    curves, lines = diagnosis.run(cells, windows, train_steps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / THROUGH_TIME_CSV, out / THROUGH_TIME_PNG]
    write_through_time(curves, files[0])
    plot_through_time({key: norms[0] for key, norms in curves.items()}, files[1],
                      f"{config.name}: gradient of the last step's loss through time\n"
                      f"(first layer's state, mean over {batch} windows of {steps} tokens)")
    for line in lines:
        log(line)
    if run is not None:
        files += clipping_plot(run, config.train, out / CLIPPING_PNG, log)
        log(forward_state_peaks(workflow.model, workflow.windows(streams["valid"]),
                                STATE_WINDOWS).line("valid"))
    return files


def clipping_plot(run, train, path, log=say):
    """Draws the run's per-step gradient log (if it has one) and prints its summary line.

    Args:
        run: the run folder.
        train: its `TrainConfig` (which clipping, which threshold).
        path: PNG file to write.
        log: callable for the summary line.
    """
    folder = RunFolder(run)
    gradient_log = folder.file(folder.GRADIENTS_CSV)
    if not gradient_log.is_file():
        log(f"{run} has no {folder.GRADIENTS_CSV} (trained before gradient logging): no "
            f"clipping plot")
        return []
    columns = read_gradient_log(gradient_log)
    kind = ("global_clipnorm" if train.global_clipnorm else
            "clipnorm" if train.clipnorm else None)
    threshold = train.global_clipnorm or train.clipnorm
    plot_clipping(columns, path, f"{run}: gradient norm and clipping", threshold, kind)
    log(f"clipping: {columns['clipped'].mean():.1%} of {len(columns['step'])} steps clipped "
        f"({kind or 'no clipping'}{f' {threshold}' if threshold else ''}); median global "
        f"norm {np.median(columns['grad_norm']):.3g}, max {columns['grad_norm'].max():.3g}")
    return [path]
