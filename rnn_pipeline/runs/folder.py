"""The run folder layout and its writers/readers.

Layout::

    config.toml          resolved pipeline config
    vocab.txt            one token per line, in id order
    sentencepiece.model  (sentencepiece tokenizer only)
    model.keras          the trained model, Keras format
    trained_with.json    the [model] section model.keras was trained with (checked on load)
    metrics.csv          one row per epoch
    metrics.json         per-epoch rows and final perplexities
    curves.png           loss and perplexity curves
    tensorboard/         TensorBoard logs (per-step gradient scalars in tensorboard/gradients)
    gradients.csv        per training step: loss, global and per-layer gradient norms, clipped
    last_good.weights.h5 only after a NaN/Inf stop: the weights before the failing step
    embedding_coverage.json  (pretrained vectors only) the coverage report
    evaluation/          (rnn-pipeline evaluate RUN) <split>.json and the task's plots
"""

import csv
import datetime
import json
import zipfile
from pathlib import Path

from rnn_pipeline import config as config_lib
from rnn_pipeline.atomic import atomic_write
from rnn_pipeline.config.loader import to_dict
from rnn_pipeline.data.vocabulary import Vocabulary
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.paths import check_writable
from rnn_pipeline.runs.lock import LOCK_FILE, check_not_training


def new_run_path(name, base="runs"):
    """``runs/<name>-<YYYYmmdd-HHMMSS>``, made unique with a suffix when needed."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"{name}-{stamp}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = Path(base) / f"{name}-{stamp}-{suffix}"
    return path


class RunFolder:
    """Args:
        path: the run folder.
    """

    CONFIG = "config.toml"
    VOCAB = "vocab.txt"
    SENTENCEPIECE = "sentencepiece.model"
    MODEL = "model.keras"
    METRICS_CSV = "metrics.csv"
    METRICS_JSON = "metrics.json"
    CURVES = "curves.png"
    TENSORBOARD = "tensorboard"
    GRADIENTS_CSV = "gradients.csv"
    LAST_GOOD = "last_good.weights.h5"
    EMBEDDING_COVERAGE = "embedding_coverage.json"
    TRAINED_WITH = "trained_with.json"
    CHECKPOINTS = "checkpoints"
    LOCK = LOCK_FILE
    FITTED_TEXT = "fitted_text.json"  # inside CHECKPOINTS
    EVALUATION = "evaluation"
    # Every task writes these; a task's workflow declares its own (`Workflow.run_files`).
    COMMON_FILES = {
        CONFIG: "the resolved pipeline",
        MODEL: "the trained model (written under a temporary name, then renamed)",
        TRAINED_WITH: "the [model] section model.keras was trained with: a config.toml "
                      "edited after training is refused",
        METRICS_CSV: "one row per epoch: learning rate, losses, gradient means",
        METRICS_JSON: "the same rows and the final figures",
        TENSORBOARD: "TensorBoard logs (tensorboard/gradients: every step)",
        GRADIENTS_CSV: "every training step: loss, global and per-layer norms, clipped",
        LAST_GOOD: "only after a NaN/Inf stop: the weights before the failing step",
        CHECKPOINTS: "the last 2 checkpoints (rnn-pipeline fit --resume RUN) and the fitted "
                     "tokenizers and vocabularies",
        LOCK: "only while a process trains the run: which one (removed when it ends)",
        EVALUATION: "(rnn-pipeline evaluate RUN) each split's figures as <split>.json, and "
                    "the task's plots of them",
    }

    def __init__(self, path):
        self.path = Path(path)

    def file(self, name):
        return self.path / name

    def undeclared(self, task_files):
        """Names in the folder that neither `COMMON_FILES` nor ``task_files`` declare."""
        declared = {*self.COMMON_FILES, *task_files}
        return sorted(p.name for p in self.path.iterdir() if p.name not in declared)

    # --- writing -----------------------------------------------------------
    def check_new(self):
        """Refuses an existing non-empty folder, or one that cannot be created here (before
        any slow work starts)."""
        check_writable(self.path, "--run-dir")
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise pipeline_error("--run-dir", "must be a new or empty folder", str(self.path))
        return self

    def create(self):
        """Creates the folder; an existing non-empty folder is refused."""
        self.check_new().path.mkdir(parents=True, exist_ok=True)
        return self

    def save_config(self, config):
        self.file(self.CONFIG).write_text(config_lib.dumps(config), encoding="utf-8")

    def save_text_assets(self, vocabulary, sentencepiece_model=None):
        vocabulary.save(self.file(self.VOCAB))
        if sentencepiece_model is not None:
            self.file(self.SENTENCEPIECE).write_bytes(sentencepiece_model)

    def save_fitted_text(self, configs):
        """Writes {name: `TextPreprocessor` config} of the fitted text sides (for --resume)."""
        folder = self.file(self.CHECKPOINTS)
        folder.mkdir(exist_ok=True)
        (folder / self.FITTED_TEXT).write_text(json.dumps(configs), encoding="utf-8")

    def load_fitted_text(self):
        """{name: `TextPreprocessor` config} saved by `save_fitted_text` ({} if none)."""
        path = self.file(self.CHECKPOINTS) / self.FITTED_TEXT
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def save_model(self, model):
        """Saves ``model`` as ``model.keras``, atomically: a kill during the write leaves no
        half-written file under that name."""
        atomic_write(self.file(self.MODEL), model.save)

    def save_trained_with(self, config):
        """Records the ``[model]`` section of ``config`` that ``model.keras`` was trained with
        (`check_trained_with` compares a later ``config.toml`` against it)."""
        text = json.dumps({"model": to_dict(config.model)}, indent=2) + "\n"
        atomic_write(self.file(self.TRAINED_WITH),
                     lambda path: Path(path).write_text(text, encoding="utf-8"))

    def check_trained_with(self, config):
        """Refuses a ``config.toml`` whose ``[model]`` was edited after training: the run's
        commands would describe one model and run another. Runs from before this record
        have none to compare; a key added to ``[model]`` after a run was trained is taken
        at its default."""
        path = self.file(self.TRAINED_WITH)
        if not path.is_file():
            return
        try:
            trained = json.loads(path.read_text(encoding="utf-8"))["model"]
        except (OSError, ValueError, KeyError, TypeError):
            raise pipeline_error("RUN", f"must hold a readable {self.TRAINED_WITH}, but it is "
                                 f"damaged (train it again with rnn-pipeline fit)",
                                 str(self.path)) from None
        now = to_dict(config.model)
        defaults = to_dict(type(config.model)())  # a key added since: its default is no edit
        for key in sorted(set(trained) | set(now)):
            if key not in trained and now.get(key) == defaults.get(key):
                continue
            if trained.get(key) != now.get(key):
                raise pipeline_error(
                    "RUN", f"{self.CONFIG} must describe the model {self.MODEL} was trained "
                    f"with, but it says model.{key} = {now.get(key)!r} where training had "
                    f"{trained.get(key)!r} (undo the edit, or train again with rnn-pipeline "
                    f"fit)", str(self.path))

    def save_epoch_rows(self, rows):
        """Writes per-epoch ``rows`` to ``metrics.csv`` (after every epoch, atomically)."""
        if not rows:
            return
        columns = list(dict.fromkeys(k for row in rows for k in row))

        def write(path):
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.file(self.METRICS_CSV), write)

    def save_metrics(self, rows, final):
        """Writes per-epoch ``rows`` to CSV and rows + ``final`` figures to JSON."""
        self.save_epoch_rows(rows)
        payload = {"epochs": rows, "final": final}
        self.file(self.METRICS_JSON).write_text(json.dumps(payload, indent=2) + "\n",
                                                encoding="utf-8")

    def save_evaluation(self, split, figures, write_plots):
        """Writes ``evaluation/<split>.json`` (atomically) and the task's plots beside it.

        Args:
            split: the split's name.
            figures: the task's figures of the split (JSON-serialisable).
            write_plots: callable(folder) -> [paths written] (`Workflow.evaluation_plots`).

        Returns:
            the paths written, the JSON file first.
        """
        folder = self.file(self.EVALUATION)
        folder.mkdir(exist_ok=True)
        path = folder / f"{split}.json"
        text = json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
        atomic_write(path, lambda partial: partial.write_text(text, encoding="utf-8"))
        return [path, *write_plots(folder)]

    # --- reading -----------------------------------------------------------
    def check_exists(self):
        """Refuses a folder that is not a run, or a run that a live process is training."""
        if not self.file(self.CONFIG).is_file():
            raise pipeline_error("RUN", f"must be a run folder containing {self.CONFIG}",
                                 str(self.path))
        check_not_training(self.path)
        return self

    def load_config(self):
        return config_lib.load(self.file(self.CONFIG), run_config=True)

    def load_model(self, compile=False):
        """The trained model, or one line saying why a run folder has none.

        Args:
            compile: whether Keras compiles it with its saved training settings.
        """
        import keras

        import rnn_pipeline.metrics  # noqa: F401  (registers the classes model.keras names)
        from rnn_pipeline.tasks import import_task_classes

        import_task_classes()  # every task's model classes, whichever task the run is

        check_not_training(self.path)
        path = self.file(self.MODEL)
        if not path.is_file():
            if any(self.file(self.CHECKPOINTS).glob("ckpt-*.json")):
                advice = f"continue it with rnn-pipeline fit --resume {self.path}"
            else:
                advice = "train it again with rnn-pipeline fit"
            raise pipeline_error("RUN", f"must hold a trained {self.MODEL}, but it is missing: "
                                 f"the run did not finish ({advice})", str(self.path))
        damaged = pipeline_error("RUN", f"must hold a readable {self.MODEL}, but {path} is "
                                 f"truncated or damaged (train it again with rnn-pipeline fit)",
                                 str(self.path))
        if not zipfile.is_zipfile(path):
            raise damaged
        try:
            return keras.models.load_model(path, compile=compile)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
            reason = " ".join(str(exc).split())[:200]  # Keras' own words, on the one line
            raise pipeline_error("RUN", f"must hold a readable {self.MODEL}, but {path} is "
                                 f"truncated or damaged ({type(exc).__name__}: {reason}; "
                                 f"train it again with rnn-pipeline fit)",
                                 str(self.path)) from exc

    def load_vocabulary(self, name=VOCAB):
        """The vocabulary file ``name``, or one line saying it is missing or damaged."""
        path = self.file(name)
        if not path.is_file():
            raise pipeline_error("RUN", f"must hold its vocabulary {name}, but it is "
                                 f"missing: the run folder is incomplete (train it again with "
                                 f"rnn-pipeline fit)", str(self.path))
        try:
            return Vocabulary.load(path)
        except (ValueError, UnicodeDecodeError):
            raise pipeline_error("RUN", f"must hold a readable vocabulary {name} (UTF-8, one "
                                 f"token per line, <unk> and <eos> first), but it is empty or "
                                 f"damaged (train it again with rnn-pipeline fit)",
                                 str(self.path)) from None

    def load_metrics(self):
        return json.loads(self.file(self.METRICS_JSON).read_text(encoding="utf-8"))
