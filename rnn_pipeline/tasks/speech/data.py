"""Speech data: recordings from a dataset, a glob or a manifest (checked), label and word
vocabularies, target ids, and the WAV bytes that `batches` turns into log-mel frames."""

from pathlib import Path

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.speech.config import SPEECH_DATASETS
from rnn_pipeline.tasks.speech.recordings import (fsdd_recordings, read_recordings,
                                                  recordings_from_files,
                                                  recordings_from_manifest)

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
        SPEECH_DATASETS.check(dataset, "dataset")
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
    """The bytes of each file (whole WAV files, for `batches.frame_batches`)."""
    return [Path(path).read_bytes() for path in paths]
