"""Speech data: recordings from a dataset, a glob or a manifest (checked), label and word
vocabularies, and tf.data batches of WAV bytes with their targets.

Batches carry whole WAV files (tf.string): the model decodes them and computes its log-mel
frames inside its graph (`features.LogMelFeatures`), as an export does.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.speech.recordings import (fsdd_recordings, read_recordings,
                                                  recordings_from_files,
                                                  recordings_from_manifest)

DATASETS = ("fsdd",)
PAD_TARGET = -1  # pads transcripts in a batch


def load_recordings(dataset=None, files=None, label_pattern=None, manifest=None,
                    speaker_pattern=None, take_pattern=None, sample_rate=8000,
                    max_seconds=None):
    """Every recording of one source, each file's header checked before any training.

    Exactly one of ``dataset`` ("fsdd"), ``files`` (a glob, or a list of globs, with
    ``label_pattern``) and ``manifest`` (``path<TAB>transcript[<TAB>speaker]``) is given.

    Returns:
        ([Recording] in path order, [note]): notes name the files mixed down to mono.

    Raises:
        PipelineError: one line naming the key, file or ``manifest:line`` (see
            `recordings` and `wavs`).
    """
    given = [name for name, value in (("dataset", dataset), ("files", files),
                                      ("manifest", manifest)) if value]
    if len(given) != 1:
        raise pipeline_error("dataset", "must be given, or else files (with label_pattern) "
                             "or manifest: exactly one of the three",
                             ", ".join(given) or None)
    if dataset:
        if dataset not in DATASETS:
            raise pipeline_error("dataset", f"must be one of: {', '.join(map(repr, DATASETS))}",
                                 dataset)
        recordings = fsdd_recordings()
    elif files:
        if not label_pattern:
            raise pipeline_error("label_pattern", "must be given with files (a regular "
                                 "expression whose first group is the label)", label_pattern)
        recordings = recordings_from_files(files, label_pattern, speaker_pattern,
                                           take_pattern)
    else:
        recordings = recordings_from_manifest(manifest)
    return read_recordings(recordings, sample_rate, max_seconds)


def label_vocabulary(labels):
    """The sorted distinct labels (a classifier's classes)."""
    return sorted(set(labels))


def word_vocabulary(transcripts):
    """The sorted distinct words of transcripts (a CTC head's symbols, blank excluded)."""
    return sorted({word for transcript in transcripts for word in transcript.split()})


def _ids(items, vocabulary, what):
    index = {item: i for i, item in enumerate(vocabulary)}
    unknown = sorted({item for item in items if item not in index})
    if unknown:
        raise pipeline_error(what, f"must be in the training vocabulary "
                             f"({', '.join(map(repr, vocabulary[:20]))})", unknown[0])
    return [index[item] for item in items]


def encode_labels(labels, vocabulary):
    """[n] int32 class ids."""
    return np.array(_ids(labels, vocabulary, "label"), np.int32)


def encode_transcripts(transcripts, vocabulary):
    """[[word id]] per transcript."""
    return [_ids(t.split(), vocabulary, "transcript word") for t in transcripts]


def read_audio(paths):
    """The bytes of each file (whole WAV files, for `speech_dataset`)."""
    return [Path(path).read_bytes() for path in paths]


def speech_dataset(audio, targets, batch_size, shuffle=False, seed=0):
    """Batches of (WAV bytes [batch] tf.string, targets).

    Args:
        audio: [bytes], whole WAV files (`read_audio`, or `Utterance.wav`).
        targets: [n] class ids (int), or [[word id]] transcripts, which come padded with
            `PAD_TARGET` to the batch's longest as [batch, words] int32.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch (seeded).
        seed: the shuffle's seed.

    Returns:
        a tf.data.Dataset.
    """
    if len(audio) != len(targets) or not audio:
        raise pipeline_error("targets", f"must be one per recording ({len(audio)})",
                             len(targets))
    audio = tf.constant(audio, tf.string)
    if np.isscalar(targets[0]):
        data = tf.data.Dataset.from_tensor_slices((audio, tf.constant(targets, tf.int32)))
    else:
        longest = max(len(t) for t in targets)
        padded = np.full((len(targets), longest), PAD_TARGET, np.int32)
        for row, target in enumerate(targets):
            padded[row, :len(target)] = target
        lengths = np.array([len(t) for t in targets], np.int32)
        data = tf.data.Dataset.from_tensor_slices((audio, padded, lengths)).map(
            lambda a, y, n: (a, y[:n]))
    if shuffle:
        data = data.shuffle(len(audio), seed=seed, reshuffle_each_iteration=True)
    data = data.padded_batch(batch_size, padding_values=("", PAD_TARGET))
    return data.prefetch(tf.data.AUTOTUNE)
