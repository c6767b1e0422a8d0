"""Continuous utterances for CTC: recordings of one speaker joined by short silences.

``concatenate = [1, 7]`` turns one split's recordings into utterances of 1 to 7 of them,
all by the same speaker, with 0.1-0.3 s of low noise between them; the transcript is their
labels joined by spaces ("4 0 7"). Utterances are built from the split's own recordings
only, with a fixed seed, so no test recording is heard in training.
"""

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.speech.wavs import read_waveform, wav_bytes


@dataclass(frozen=True)
class Utterance:
    """A concatenated utterance: the mono waveform, its transcript, the recordings it is
    made of (paths, in order) and their speaker."""

    waveform: np.ndarray
    transcript: str
    pieces: tuple
    speaker: str

    def wav(self, sample_rate):
        """The utterance as 16-bit PCM WAV bytes."""
        return wav_bytes(self.waveform, sample_rate)


def _check_range(concatenate):
    try:
        low, high = (int(n) for n in concatenate)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not 1 <= low <= high:
        raise pipeline_error("concatenate", "must be [min, max] recordings per utterance, "
                             "with 1 <= min <= max", concatenate)
    return low, high


def concatenate_recordings(recordings, concatenate=(1, 7), count=None, sample_rate=8000,
                           silence_seconds=(0.1, 0.3), noise=1e-3, seed=0):
    """Builds utterances from ``recordings`` (one split's; each needs a speaker).

    Args:
        recordings: [Recording], with ``speaker`` set (None counts as one speaker).
        concatenate: [min, max] recordings per utterance (uniform), all of one speaker.
        count: utterances to build (None: as many as there are recordings).
        sample_rate: the recordings' rate (Hz), for the silences.
        silence_seconds: (shortest, longest) silence between two recordings (uniform).
        noise: the standard deviation of the Gaussian noise in the silences (0: zeros).
        seed: the seed of every choice; the same arguments give the same utterances.

    Returns:
        [Utterance]. Within an utterance no recording repeats; across utterances they may.
    """
    low, high = _check_range(concatenate)
    if not recordings:
        raise pipeline_error("recordings", "must hold at least one recording to "
                             "concatenate", 0)
    by_speaker = defaultdict(list)
    for recording in sorted(recordings, key=lambda r: r.path):
        by_speaker[recording.speaker].append(recording)
    speakers = sorted(by_speaker, key=str)
    weights = [len(by_speaker[s]) for s in speakers]
    choose = random.Random(seed)
    noise_rng = np.random.default_rng(seed)
    cache = {}

    def waveform(path):
        if path not in cache:
            cache[path] = read_waveform(path)[0]
        return cache[path]

    out = []
    for _ in range(len(recordings) if count is None else count):
        speaker = choose.choices(speakers, weights)[0]
        pool = by_speaker[speaker]
        pieces = choose.sample(pool, min(choose.randint(low, high), len(pool)))
        parts = []
        for i, piece in enumerate(pieces):
            if i:
                gap = int(round(choose.uniform(*silence_seconds) * sample_rate))
                parts.append((noise_rng.standard_normal(gap) * noise).astype(np.float32))
            parts.append(waveform(piece.path))
        out.append(Utterance(np.concatenate(parts), " ".join(p.label for p in pieces),
                             tuple(p.path for p in pieces), speaker))
    return out
