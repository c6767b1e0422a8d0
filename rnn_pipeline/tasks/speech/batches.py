"""The examples of a speech run: each split's audio (recordings, or utterances joined from
them for CTC) with its transcript and speaker, and tf.data batches of log-mel frames.

Frames are computed once per recording by the graph functions of `features` (the export
runs the same ones) and cached; SpecAugment is the model's, in training only.
"""

import dataclasses

import tensorflow as tf

from rnn_pipeline.tasks.speech.concatenate import concatenate_recordings
from rnn_pipeline.tasks.speech.data import PAD_TARGET, read_audio
from rnn_pipeline.tasks.speech.features import LogMelFeatures


@dataclasses.dataclass
class SplitExamples:
    """One split: WAV bytes, transcripts (a classifier's labels) and speakers, aligned."""

    audio: list
    transcripts: list
    speakers: list

    def __len__(self):
        return len(self.audio)


def split_examples(recordings, concatenate=None, sample_rate=8000, seed=0):
    """The examples of one split: each recording, or (``concatenate = [low, high]``) as
    many utterances of ``low..high`` recordings of one speaker, built from this split's own
    recordings only.

    Args:
        recordings: the split's `Recording`s.
        concatenate: None, or [shortest, longest].
        sample_rate: the recordings' rate.
        seed: the concatenation's seed.
    """
    if concatenate is None:
        return SplitExamples(read_audio([r.path for r in recordings]),
                             [r.label for r in recordings],
                             [r.speaker or "" for r in recordings])
    utterances = concatenate_recordings(recordings, tuple(concatenate),
                                        sample_rate=sample_rate, seed=seed)
    return SplitExamples([u.wav(sample_rate) for u in utterances],
                         [u.transcript for u in utterances],
                         [u.speaker or "" for u in utterances])


def frame_function(speech):
    """WAV bytes [batch] -> (normalised log-mel frames, mask), as the ``[speech]`` section
    sets them: `LogMelFeatures`' graph functions (SpecAugment is the model's)."""
    return LogMelFeatures(speech.sample_rate, window_ms=speech.window_ms,
                          hop_ms=speech.hop_ms, n_mels=speech.n_mels).call


def frame_batches(audio, targets, frames, batch_size, shuffle_seed=None):
    """Batches of ({"frames": (batch, time, n_mels), "mask": (batch, time)}, targets).

    Args:
        audio: [bytes] WAV files.
        targets: [int] class ids, or [[int]] transcripts (padded with `PAD_TARGET`).
        frames: `frame_function`'s result.
        batch_size: examples per batch.
        shuffle_seed: reshuffle every epoch with this seed; None keeps the order.
    """
    if len(targets) and isinstance(targets[0], (list, tuple)):
        targets = tf.ragged.constant(targets, dtype=tf.int32, ragged_rank=1)  # (n, None)
    else:
        targets = tf.constant(targets, tf.int32)  # (n,)

    def one(wav, target):
        f, m = frames(wav[None])
        return {"frames": f[0], "mask": m[0]}, target

    data = tf.data.Dataset.from_tensor_slices((tf.constant(audio, tf.string), targets))
    data = data.map(one, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle_seed is not None:
        data = data.shuffle(len(audio), seed=shuffle_seed, reshuffle_each_iteration=True)
    data = data.padded_batch(batch_size, padding_values=(
        {"frames": 0.0, "mask": False}, PAD_TARGET))
    return data.prefetch(tf.data.AUTOTUNE)
