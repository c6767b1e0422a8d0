"""The sections of a speech pipeline: ``[speech]``, ``[model]`` and ``[train]`` (no
TensorFlow).

Key-by-key checks (types, ranges, choices) are the loader's; the rules between keys (one
source of recordings, ``concatenate`` with the ``ctc`` head) are `SpeechConfig.check`'s.
"""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline.config.schema import PipelineConfig, RecurrentConfig
from rnn_pipeline import choices
from rnn_pipeline.config.training import (MAX_EPOCHS, TrainConfig, at_least, one_of,
                                          path_key, seed_field)
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry

SPEECH_DATASETS = Registry("speech.dataset", ("fsdd",))
SPEECH_SPLITS = Registry("speech.split", ("official", "speaker", "fractions"))
SPEECH_HEADS = Registry("model.head", ("classify", "ctc"))
SPEECH_POOLINGS = Registry("model.pooling", ("mean", "max", "mean_max"))
SPEECH_DECODERS = Registry("model.decoder", ("greedy", "beam"))


@dataclass
class SpeechSection:
    """Which recordings, how they are split, and the features the model reads.

    Args:
        dataset: a registry dataset ("fsdd"), or unset with ``files`` or ``manifest``.
        files: WAV file globs; each file's label is ``label_pattern``'s first group.
        label_pattern: regular expression on the file name, e.g. ``^(\\d)_``.
        speaker_pattern: regular expression whose first group is the speaker (the
            ``speaker`` split and per-speaker scores), e.g. ``^\\d_([a-z]+)_``.
        manifest: a CSV/TSV of ``path<TAB>transcript[<TAB>speaker]`` rows.
        split: "official" (FSDD's takes 0-4 are test), "speaker" (``test_speaker`` is test)
            or "fractions" (a seeded shuffle).
        test_speaker: the held-out speaker of the "speaker" split.
        valid_fraction: share of the training recordings for validation.
        test_fraction: share of the recordings for test ("fractions").
        seed: seed of the splits, the concatenation and SpecAugment.
        sample_rate: the rate every recording must have (Hz).
        max_seconds: longest recording; a longer one is refused.
        n_mels: mel bands of the log-mel frames.
        window_ms: STFT window (ms).
        hop_ms: STFT hop (ms).
        spec_augment: SpecAugment time and frequency masks in training.
        concatenate: [shortest, longest]: with the ``ctc`` head, utterances of that many
            recordings of one speaker, joined by short silences, from each split's own
            recordings (e.g. [1, 7]); unset: each recording alone.
    """

    dataset: Optional[str] = None
    files: list[str] = path_key(many=True)
    label_pattern: Optional[str] = None
    speaker_pattern: Optional[str] = None
    manifest: Optional[str] = path_key()
    split: str = one_of(SPEECH_SPLITS, "official")
    test_speaker: Optional[str] = None
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = seed_field()
    sample_rate: int = at_least(1, 8000)
    max_seconds: float = 10.0
    n_mels: int = at_least(1, 40)
    window_ms: float = 25.0
    hop_ms: float = 10.0
    spec_augment: bool = True
    concatenate: Optional[list[int]] = None

    def __post_init__(self):
        if self.dataset is not None:
            SPEECH_DATASETS.check(self.dataset, "speech.dataset")
        for key in ("valid_fraction", "test_fraction"):
            if not 0.0 < getattr(self, key) < 0.5:
                raise pipeline_error(f"speech.{key}", "must be in (0, 0.5)", getattr(self, key))
        for key in ("max_seconds", "window_ms", "hop_ms"):
            if not getattr(self, key) > 0:
                raise pipeline_error(f"speech.{key}", "must be above 0", getattr(self, key))


@dataclass
class SpeechModelConfig(RecurrentConfig):
    """The recogniser: log-mel frames -> a bidirectional recurrent stack -> a head.

    Args:
        head: "classify" (one label per recording) or "ctc" (a transcript).
        pooling: "classify": how the states are pooled over the real frames.
        subsample: join this many neighbouring frames into one (faster, for "ctc" too).
        input_dropout: dropout on the frames.
        projection_dim: a linear projection of the frames first; 0 = none.
        decoder: "ctc": "greedy" or "beam" search, in the graph.
        beam_width: "beam": hypotheses kept.
    """

    units: int = 128
    num_layers: int = 2
    dropout: float = 0.2
    bidirectional: bool = True
    head: str = one_of(SPEECH_HEADS, "classify")
    pooling: str = one_of(SPEECH_POOLINGS, "mean_max")
    subsample: int = at_least(1, 2)
    input_dropout: float = 0.0
    projection_dim: int = at_least(0, 0)
    decoder: str = one_of(SPEECH_DECODERS, "greedy")
    beam_width: int = at_least(1, 8)


@dataclass
class SpeechTrainConfig(TrainConfig):
    """A speech pipeline's ``[train]``: `TrainConfig`'s keys with the recogniser's defaults
    (a pipeline that sets one key keeps the others)."""

    epochs: int = at_least(1, 40, most=MAX_EPOCHS)
    batch_size: int = at_least(1, 32)
    global_clipnorm: Optional[float] = 5.0
    schedule: str = one_of(choices.SCHEDULES, "cosine")


@dataclass
class SpeechConfig(PipelineConfig):
    """Speech recognition from WAV files: ``[speech]``, ``[model]``, ``[train]``."""

    task: str = "speech"
    speech: SpeechSection = field(default_factory=SpeechSection)
    model: SpeechModelConfig = field(default_factory=SpeechModelConfig)
    train: SpeechTrainConfig = field(default_factory=SpeechTrainConfig)

    def check(self):
        """Raises a `PipelineError` unless the keys agree with each other."""
        s = self.speech
        sources = [k for k in ("dataset", "files", "manifest") if getattr(s, k)]
        if len(sources) != 1:
            raise pipeline_error("speech.dataset", "must be set, or else speech.files (with "
                                 "speech.label_pattern) or speech.manifest: exactly one",
                                 ", ".join(sources) or None)
        if s.concatenate is not None:
            if self.model.head != "ctc":
                raise pipeline_error("speech.concatenate", "needs model.head = 'ctc' (a "
                                     "classifier gives one label per recording)", s.concatenate)
            if len(s.concatenate) != 2 or not 1 <= s.concatenate[0] <= s.concatenate[1]:
                raise pipeline_error("speech.concatenate", "must be [shortest, longest] with "
                                     "1 <= shortest <= longest", s.concatenate)
        if s.split == "speaker" and not s.test_speaker:
            raise pipeline_error("speech.test_speaker", "must name the held-out speaker with "
                                 "speech.split = 'speaker'", s.test_speaker)
        return self
