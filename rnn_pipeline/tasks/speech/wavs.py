"""WAV files in Python: header checks without decoding, waveforms, and WAV bytes.

`read_header` walks the RIFF chunks of a file (a few small reads, no decode) and refuses,
with one line naming the file, what ``tf.audio.decode_wav`` could not read or a pipeline
must not train on: a file that is not RIFF/WAVE, an empty or truncated one, a format other
than 16-bit PCM, another sample rate, a recording over ``max_seconds``.
"""

import io
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_pipeline.errors import pipeline_error

_PCM, _EXTENSIBLE = 1, 0xFFFE


@dataclass(frozen=True)
class WavHeader:
    """What a WAV file's header says: rate (Hz), channels, sample frames."""

    path: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def seconds(self):
        return self.frames / self.sample_rate


def _chunks(f, size):
    """Yields (chunk id, declared size, offset of its data, bytes left after its header)."""
    offset = 12
    while offset + 8 <= size:
        f.seek(offset)
        chunk_id, length = struct.unpack("<4sI", f.read(8))
        yield chunk_id, length, offset + 8, size - offset - 8
        offset += 8 + length + (length & 1)


def _format(f, path, offset, length):
    if length < 16:
        raise pipeline_error(str(path), "must be a whole WAV file: its 'fmt ' chunk is "
                             "truncated", f"{length} bytes")
    f.seek(offset)
    audio_format, channels, rate, _, _, bits = struct.unpack("<HHIIHH", f.read(16))
    if audio_format == _EXTENSIBLE and length >= 26:
        f.seek(offset + 24)
        audio_format = struct.unpack("<H", f.read(2))[0]  # the sub-format GUID's first bytes
    if audio_format != _PCM or bits != 16:
        raise pipeline_error(str(path), "must be 16-bit PCM WAV (what tf.audio.decode_wav "
                             "reads)", f"format {audio_format}, {bits}-bit")
    if channels < 1 or rate < 1:
        raise pipeline_error(str(path), "must have at least one channel and a sample rate",
                             f"{channels} channels at {rate} Hz")
    return channels, rate


def read_header(path):
    """Reads and checks a WAV file's header (no samples are decoded).

    Returns:
        a `WavHeader`.

    Raises:
        PipelineError: naming the file: not a RIFF/WAVE file, empty, truncated (a chunk
            that ends past the file's end, or no ``data`` chunk), not 16-bit PCM, or no
            samples at all.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as exc:
        raise pipeline_error(str(path), f"must be a readable file ({exc.strerror})",
                             str(path)) from None
    with f:
        head = f.read(12)
        if size == 0:
            raise pipeline_error(str(path), "must be a WAV file, but it is empty", "0 bytes")
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise pipeline_error(str(path), "must be a WAV file (starting with a RIFF/WAVE "
                                 "header)", head)
        fmt = None
        for chunk_id, length, offset, left in _chunks(f, size):
            if length > left:
                raise pipeline_error(str(path), f"must be a whole WAV file, but it is "
                                     f"truncated: its {chunk_id.decode('latin-1')!r} chunk "
                                     f"declares {length} bytes and {left} follow",
                                     f"{size} bytes")
            if chunk_id == b"fmt ":
                fmt = _format(f, path, offset, length)
            elif chunk_id == b"data":
                if fmt is None:
                    break
                channels, rate = fmt
                frames = length // (2 * channels)
                if frames == 0:
                    raise pipeline_error(str(path), "must hold audio, but its 'data' chunk "
                                         "is empty", f"{size} bytes")
                return WavHeader(str(path), rate, channels, frames)
    raise pipeline_error(str(path), "must be a whole WAV file, but it is truncated: no "
                         "'fmt ' chunk followed by a 'data' chunk", f"{size} bytes")


def check_recording(path, sample_rate, max_seconds):
    """`read_header` plus the pipeline's rules: the sample rate and the longest recording.

    Returns:
        (`WavHeader`, note or None): the note says a multi-channel file is mixed down.
    """
    header = read_header(path)
    if header.sample_rate != sample_rate:
        raise pipeline_error(str(path), f"must be sampled at speech.sample_rate={sample_rate} Hz, "
                             f"but it is {header.sample_rate} Hz (resample it)",
                             f"{header.sample_rate} Hz")
    if max_seconds is not None and header.seconds > max_seconds:
        raise pipeline_error(str(path), f"must last at most speech.max_seconds={max_seconds:g} s",
                             f"{header.seconds:.3f} s")
    note = None
    if header.channels > 1:
        note = f"{path}: {header.channels} channels, mixed down to mono"
    return header, note


def read_waveform(path):
    """The file's samples as float32 in [-1, 1], channels mixed down to mono (as
    `features.decode_wavs` does), and its sample rate."""
    with wave.open(str(path), "rb") as f:
        channels, rate = f.getnchannels(), f.getframerate()
        data = np.frombuffer(f.readframes(f.getnframes()), "<i2")
    samples = data.astype(np.float32).reshape(-1, channels) / 32768.0
    return samples.mean(axis=1), rate


def wav_bytes(waveform, sample_rate):
    """A mono 16-bit PCM WAV file (bytes) of float samples in [-1, 1] (clipped)."""
    samples = np.clip(np.round(np.asarray(waveform, np.float64) * 32768.0), -32768, 32767)
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()
