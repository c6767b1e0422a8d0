"""Recordings and their labels: a glob of WAV files named by a pattern, a manifest, or the
registry dataset ``fsdd``; every file's header is checked before any training.

A `Recording` is one WAV file with its label (a class, or a transcript of words), and where
known its speaker and take. `read_recordings` checks every file (`wavs.check_recording`)
and returns the notes (stereo files mixed down) beside the recordings.
"""

import csv
import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.speech.wavs import check_recording

# FSDD's file names: {digit}_{speaker}_{take}.wav
FSDD_LABEL_PATTERN = r"^(\d)_"
FSDD_SPEAKER_PATTERN = r"^\d_([^_]+)_"
FSDD_TAKE_PATTERN = r"_(\d+)\.wav$"
_SHOWN = 3  # file names shown in an error


@dataclass(frozen=True)
class Recording:
    """One WAV file: ``label`` is its class or transcript (words joined by spaces)."""

    path: str
    label: str
    speaker: Optional[str] = None
    take: Optional[int] = None
    seconds: float = 0.0


def _compile(pattern, argument):
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise pipeline_error(argument, f"must be a regular expression ({exc})",
                             pattern) from None
    if compiled.groups < 1:
        raise pipeline_error(argument, "must have a group (the first group is the value)",
                             pattern)
    return compiled


def _group(compiled, name):
    found = compiled.search(name)
    return found.group(1) if found else None


def _expand(files):
    patterns = [files] if isinstance(files, (str, Path)) else list(files)
    paths = sorted({p for pattern in patterns for p in glob.glob(str(pattern), recursive=True)
                    if Path(p).is_file()})
    if not paths:
        raise pipeline_error("files", "must match at least one file", files)
    return paths


def recordings_from_files(files, label_pattern, speaker_pattern=None, take_pattern=None):
    """Recordings of the files matching glob(s) ``files``, labelled from their file names.

    Args:
        files: a glob or a list of globs (``**`` recurses).
        label_pattern: a regular expression searched in each file's name; its first group
            is the label (e.g. ``^(\\d)_``). It must match every file, and give at least
            two classes.
        speaker_pattern, take_pattern: the same for the speaker and the take number (the
            ``speaker`` and ``official`` splits need them), or None.

    Returns:
        [Recording], sorted by path (headers not yet checked: see `read_recordings`).
    """
    label_re = _compile(label_pattern, "label_pattern")
    speaker_re = speaker_pattern and _compile(speaker_pattern, "speaker_pattern")
    take_re = take_pattern and _compile(take_pattern, "take_pattern")
    paths = _expand(files)
    names = [Path(p).name for p in paths]
    labels = [_group(label_re, name) for name in names]
    unmatched = [name for name, label in zip(names, labels) if label is None]
    if len(unmatched) == len(names):
        raise pipeline_error("label_pattern", f"must match the file names, but it matches "
                             f"none of the {len(names)} files (e.g. "
                             f"{', '.join(names[:_SHOWN])})", label_pattern)
    if unmatched:
        raise pipeline_error("label_pattern", f"must match every file name, but "
                             f"{len(unmatched)} of {len(names)} do not (e.g. "
                             f"{', '.join(unmatched[:_SHOWN])})", label_pattern)
    if len(set(labels)) < 2:
        raise pipeline_error("label_pattern", f"must give at least two classes, but every "
                             f"one of the {len(names)} files is labelled {labels[0]!r}",
                             label_pattern)
    out = []
    for path, name, label in zip(paths, names, labels):
        speaker = _group(speaker_re, name) if speaker_re else None
        take = _group(take_re, name) if take_re else None
        out.append(Recording(path, label, speaker, None if take is None else int(take)))
    return out


def recordings_from_manifest(manifest):
    """Recordings listed in a CSV or TSV manifest: ``path<TAB>transcript[<TAB>speaker]``
    (``.csv``: commas; a first row ``path,...`` is a header). Relative paths are resolved
    against the manifest's folder.

    Raises:
        PipelineError: naming ``manifest:line``: a row without a transcript, or naming a
            file that does not exist.
    """
    manifest = Path(manifest)
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise pipeline_error("manifest", f"must be a readable UTF-8 file ({exc})",
                             str(manifest)) from None
    delimiter = "," if manifest.suffix.lower() == ".csv" else "\t"
    out = []
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "path":
            continue
        where = f"{manifest}:{number}"
        if len(row) < 2 or not row[1].strip():
            raise pipeline_error(where, "must be 'path<TAB>transcript' (a path, then its "
                                 "transcript)", delimiter.join(row))
        path = Path(row[0].strip())
        path = path if path.is_absolute() else manifest.parent / path
        if not path.is_file():
            raise pipeline_error(where, "must name an existing WAV file", row[0])
        speaker = row[2].strip() if len(row) > 2 and row[2].strip() else None
        out.append(Recording(str(path), " ".join(row[1].split()), speaker))
    if not out:
        raise pipeline_error("manifest", "must list at least one recording", str(manifest))
    return out


def fsdd_recordings():
    """The 3,000 recordings of the registry dataset ``fsdd`` (cache, mirror or download),
    labelled, with speaker and take, from their names ``{digit}_{speaker}_{take}.wav``."""
    from rnn_pipeline.datasets import DATASETS, fetch_file

    folder = fetch_file(DATASETS.get("fsdd").files["recordings"])
    return recordings_from_files(str(Path(folder) / "*.wav"), FSDD_LABEL_PATTERN,
                                 FSDD_SPEAKER_PATTERN, FSDD_TAKE_PATTERN)


def read_recordings(recordings, sample_rate=8000, max_seconds=None):
    """Checks every recording's header (`wavs.check_recording`) and fills in its length.

    Returns:
        ([Recording] with ``seconds``, [note]): a note per file mixed down to mono.

    Raises:
        PipelineError: naming the first file that is not a usable WAV.
    """
    checked, notes = [], []
    for recording in recordings:
        header, note = check_recording(recording.path, sample_rate, max_seconds)
        checked.append(Recording(recording.path, recording.label, recording.speaker,
                                 recording.take, header.seconds))
        if note:
            notes.append(note)
    return checked, notes
