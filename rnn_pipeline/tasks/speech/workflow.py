"""The speech workflow: WAV recordings -> log-mel frames -> a trained recogniser, accuracy
(``classify``) or WER and CER (``ctc``) on test and valid, overall and per speaker."""

import json

from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.runs.confusion import CONFUSION_PNG, confusion_counts, plot_confusion
from rnn_pipeline.tasks.speech.batches import frame_batches, frame_function, split_examples
from rnn_pipeline.tasks.speech.data import (encode_labels, encode_transcripts,
                                           label_vocabulary, load_recordings,
                                           word_vocabulary)
from rnn_pipeline.tasks.speech.metrics import speech_scores
# Importing the model module registers the classes a run's model.keras holds.
from rnn_pipeline.tasks.speech.model import SpeechRecognizer
from rnn_pipeline.tasks.speech.plots import ALIGNMENT_PNG, plot_alignment
from rnn_pipeline.tasks.speech.splits import split_recordings
from rnn_pipeline.workflows.base import Workflow

METRICS_JSON, PREDICTIONS_TSV = "speech_metrics.json", "predictions.tsv"
LABELS_TXT = "labels.txt"
_EVALUATED = ("test", "valid")
_SPEECH_KEYS = ("dataset", "files", "label_pattern", "speaker_pattern", "manifest", "split",
                "test_speaker", "valid_fraction", "test_fraction", "concatenate")


def build_recognizer(model_config, labels, speech, seed=0):
    """A `SpeechRecognizer` from the ``[model]`` and ``[speech]`` sections."""
    m = model_config
    keys = {**{k: f"model.{k}" for k in ("head", "cell", "units", "num_layers", "dropout",
                                          "pooling", "subsample", "beam_width",
                                          "input_dropout", "projection_dim")},
            "labels": "the training transcripts", "num_mels": "speech.n_mels"}
    with config_keys(keys):
        return SpeechRecognizer(
            speech.n_mels, labels, head=m.head, cell=m.cell, units=m.units,
            num_layers=m.num_layers, bidirectional=m.bidirectional, dropout=m.dropout,
            input_dropout=m.input_dropout, projection_dim=m.projection_dim,
            subsample=m.subsample, pooling=m.pooling, beam_width=m.beam_width, seed=seed,
            spec_augment=speech.spec_augment, name="speech_recognizer")


class SpeechWorkflow(Workflow):
    """Args:
        config: a resolved `SpeechConfig`.
        log: callable for progress lines.
    """

    run_files = {
        LABELS_TXT: "the classes (classify) or words (ctc), one per line in id order",
        METRICS_JSON: "test and valid accuracy, WER and CER, overall and per speaker",
        PREDICTIONS_TSV: "speaker, reference and hypothesis of every test utterance",
        CONFUSION_PNG: "(classify) the test confusion matrix",
        ALIGNMENT_PNG: "(ctc) a test utterance's log-mel frames and CTC alignment",
    }

    @property
    def metric(self):
        return "accuracy" if self.config.model.head == "classify" else "error_rate"

    @property
    def direction(self):
        return "max" if self.config.model.head == "classify" else "min"

    # --- preparation ---
    def check(self):
        """The keys' rules, and a tiny model built from the settings."""
        cfg = self.config.check()
        build_recognizer(cfg.model, ["0", "1"], cfg.speech, seed=cfg.train.seed)

    def read_examples(self):
        """Reads, checks and splits the recordings; the examples of every split
        (``self.examples``); logs one line, and one note per stereo file."""
        s = self.config.speech
        splits = self.recordings_by_split()
        with config_keys({k: f"speech.{k}" for k in _SPEECH_KEYS}):
            self.examples = {name: split_examples(part, s.concatenate, s.sample_rate,
                                                  seed=s.seed + index)
                             for index, (name, part) in enumerate(splits.items())}
        classify = self.config.model.head == "classify"
        if not hasattr(self, "labels"):
            train = self.examples["train"].transcripts
            self.labels = label_vocabulary(train) if classify else word_vocabulary(train)
        counts = ", ".join(f"{k} {len(v):,}" for k, v in self.examples.items())
        joined = f", {s.concatenate[0]}-{s.concatenate[1]} recordings each" \
            if s.concatenate else ""
        self.log(f"Data: {counts} utterances{joined} (split {s.split!r}); "
                 f"{len(self.labels)} {'classes' if classify else 'words'}")

    def recordings_by_split(self):
        """{split: [Recording]}: the recordings read, checked (one note logged per stereo
        file) and split as ``[speech]`` says."""
        s = self.config.speech
        with config_keys({k: f"speech.{k}" for k in _SPEECH_KEYS}):
            recordings, notes = load_recordings(
                dataset=s.dataset, files=s.files or None, label_pattern=s.label_pattern,
                manifest=s.manifest, speaker_pattern=s.speaker_pattern,
                sample_rate=s.sample_rate, max_seconds=s.max_seconds)
            splits = split_recordings(recordings, s.split, s.valid_fraction, s.test_fraction,
                                      s.test_speaker, s.seed)
        for note in notes:
            self.log(f"Note: {note}")
        return splits

    def targets(self, name):
        """The target ids of split ``name``."""
        texts = self.examples[name].transcripts
        if self.config.model.head == "classify":
            return encode_labels(texts, self.labels)
        return encode_transcripts(texts, self.labels)

    def load_data(self):
        cfg = self.config
        self.read_examples()
        frames = frame_function(cfg.speech)
        self.datasets = {
            name: frame_batches(examples.audio, self.targets(name), frames,
                                cfg.train.batch_size,
                                shuffle_seed=cfg.train.seed if name == "train" else None)
            for name, examples in self.examples.items()}

    def build_model(self):
        cfg = self.config
        return build_recognizer(cfg.model, self.labels, cfg.speech, seed=cfg.train.seed)

    def save_assets(self, run):
        run.file(LABELS_TXT).write_text("".join(f"{label}\n" for label in self.labels),
                                        encoding="utf-8")

    def read_assets(self, run):
        """The run's labels; a missing or empty file is refused in one line."""
        try:
            self.labels = run.file(LABELS_TXT).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            self.labels = []
        if not self.labels:
            raise pipeline_error("RUN", f"must hold its readable {LABELS_TXT} (train it again "
                                 f"with rnn-pipeline fit)", str(run.path))

    # --- predicting and scoring ---
    def recognise(self, x):
        """(hypotheses, probabilities): each utterance's label name and its probability
        (classify), or its transcript and None (ctc), of a batch of frames ``x``."""
        import tensorflow as tf

        if self.model.head == "classify":
            ids, probabilities = self.model.predict_labels(x)
            best = [float(p) for p in tf.reduce_max(probabilities, axis=-1).numpy()]
        else:
            ids = self.model.decode(x, self.config.model.decoder)
            best = [None] * len(ids)
        texts = self.model.ids_to_text(tf.convert_to_tensor(ids)).numpy()
        return [t.decode("utf-8") for t in texts], best

    def predict(self, name):
        """The hypotheses (label names, or transcripts) of split ``name``."""
        out = []
        data = getattr(self, "datasets", {}).get(name)  # after training: its cached frames
        if data is None or name == "train":  # the training batches are shuffled
            data = frame_batches(self.examples[name].audio, self.targets(name),
                                 frame_function(self.config.speech), 64)
        for x, _ in data:
            out += self.recognise(x)[0]
        return out

    def score_splits(self, names):
        """{split: `speech_scores`} of ``names``; keeps the hypotheses."""
        self.hypotheses, result = {}, {}
        for name in names:
            examples = self.examples[name]
            self.hypotheses[name] = self.predict(name)
            result[name] = speech_scores(examples.transcripts, self.hypotheses[name],
                                         examples.speakers)
        return result

    def finish(self, run, rows, seconds):
        final = self.score_splits(_EVALUATED)
        final["train_seconds"] = seconds
        run.file(METRICS_JSON).write_text(json.dumps(final, indent=2) + "\n", encoding="utf-8")
        lines = [f"{s}\t{r}\t{h}" for s, r, h in zip(self.examples["test"].speakers,
                                                     self.examples["test"].transcripts,
                                                     self.hypotheses["test"])]
        run.file(PREDICTIONS_TSV).write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.write_plots(run.path, "test", final["test"])
        run.save_metrics(rows, final)
        return final

    def write_plots(self, folder, split, scores, prefix=""):
        """The confusion matrix (classify) or a CTC alignment of the split's first utterance
        (needs `score_splits` on it); returns the paths written."""
        import tensorflow as tf

        examples = self.examples[split]
        if self.model.head == "classify":
            path = folder / f"{prefix}{CONFUSION_PNG}"
            counts = confusion_counts([[t] for t in examples.transcripts],
                                      [[h] for h in self.hypotheses[split]], self.labels)
            plot_confusion(counts, self.labels, path, f"{self.config.name}: {split} "
                           f"(accuracy {100 * scores['accuracy']:.2f}%)")
            return [path]
        path = folder / f"{prefix}{ALIGNMENT_PNG}"
        frames, mask = frame_function(self.config.speech)(
            tf.constant(examples.audio[:1], tf.string))
        symbols = self.model.alignment({"frames": frames, "mask": mask})[0].numpy()
        real = int(tf.reduce_sum(tf.cast(mask[0], tf.int32)))
        plot_alignment(frames[0, :real].numpy(), symbols, self.labels, self.model.subsample,
                       path, f"reference: {examples.transcripts[0]}   hypothesis: "
                             f"{self.hypotheses[split][0]}")
        return [path]

    # --- a finished run ---
    def evaluate(self, split):
        self.read_examples()
        return self.score_splits([split])[split]

    def evaluation_lines(self, split, figures):
        return [self.split_line(split, figures)]

    def evaluation_plots(self, split, figures, folder):
        return self.write_plots(folder, split, figures, prefix=f"{split}_")

    @staticmethod
    def split_line(split, scores):
        """One split's figures as a line: accuracy (whole utterances right), WER, CER."""
        return (f"{split} accuracy {100 * scores['accuracy']:.2f}%, WER "
                f"{100 * scores['wer']:.2f}%, CER {100 * scores['cer']:.2f}% over "
                f"{scores['count']:,} utterances")

    def make_serving_module(self, assets_dir):
        """The TF Serving module (WAV bytes in); its warm-up request is the first test
        recording (for ``concatenate`` too: one recording is a real request)."""
        from rnn_pipeline.tasks.speech.data import read_audio
        from rnn_pipeline.tasks.speech.serving import SpeechServing

        first = self.recordings_by_split()["test"][0]  # not every example: one file is read
        return SpeechServing(self.model, self.config.speech, self.config.model.decoder,
                             warmup_audio=read_audio([first.path])[0])

    def summary(self, final):
        lines = [self.split_line(s, final[s]) for s in _EVALUATED if s in final]
        return lines + [f" trained in {final['train_seconds']:.0f}s"]

    def transcribe(self, paths):
        """(hypothesis, probability or None) of each WAV file (checked first)."""
        import tensorflow as tf

        from rnn_pipeline.tasks.speech.data import read_audio
        from rnn_pipeline.tasks.speech.wavs import check_recording

        s = self.config.speech
        for path in paths:
            check_recording(path, s.sample_rate, s.max_seconds)
        frames, mask = frame_function(s)(tf.constant(read_audio(paths), tf.string))
        return list(zip(*self.recognise({"frames": frames, "mask": mask})))

