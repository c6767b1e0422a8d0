"""Speech data: the checks before training (one line each), labels from file names and
manifests, the FSDD splits, concatenated CTC utterances and tf.data batches."""

import struct

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.speech.concatenate import concatenate_recordings
from rnn_pipeline.tasks.speech.data import (PAD_TARGET, encode_labels, encode_transcripts,
                                            label_vocabulary, load_recordings, read_audio,
                                            word_vocabulary)
from rnn_pipeline.tasks.speech.features import decode_wavs
from rnn_pipeline.tasks.speech.splits import split_recordings
from rnn_pipeline.tasks.speech.wavs import read_header, read_waveform, wav_bytes


def _write(path, seconds=0.2, rate=8000):
    path.write_bytes(wav_bytes(np.full(int(seconds * rate), 0.1, np.float32), rate))
    return path


@pytest.fixture(scope="module")
def fsdd(dataset):
    dataset("fsdd")
    recordings, notes = load_recordings("fsdd", sample_rate=8000, max_seconds=5)
    assert notes == []
    return recordings


@pytest.fixture(scope="module")
def official(fsdd):
    return split_recordings(fsdd, "official", valid_fraction=0.1, seed=0)


def _one_line(info):
    message = str(info.value)
    assert "\n" not in message and "Received:" in message
    return message


@pytest.mark.parametrize("content, rule", [
    (b"", "must be a WAV file, but it is empty"),
    (b"ID3\x04 an mp3 file, not a wav file", r"must be a WAV file \(starting with a RIFF"),
    (None, "must be a whole WAV file, but it is truncated: its 'data' chunk declares 3200 "
           "bytes and 1000 follow"),
    (b"RIFF\x04\x00\x00\x00WAVE", "must be a whole WAV file, but it is truncated: no 'fmt ' "
                                  "chunk followed by a 'data' chunk"),
])
def test_a_file_that_is_not_a_whole_wav_is_refused_naming_it(tmp_path, content, rule):
    path = tmp_path / "x.wav"
    if content is None:  # a real WAV cut short
        content = wav_bytes(np.zeros(1600), 8000)[:44 + 1000]
    path.write_bytes(content)
    with pytest.raises(PipelineError, match=rf"^{path} {rule}") as info:
        read_header(path)
    _one_line(info)


def test_an_8_bit_wav_is_refused(tmp_path):
    data = bytearray(wav_bytes(np.zeros(100), 8000))
    data[34:36] = struct.pack("<H", 8)
    (tmp_path / "x.wav").write_bytes(bytes(data))
    with pytest.raises(PipelineError, match=r"must be 16-bit PCM WAV.*format 1, 8-bit"):
        read_header(tmp_path / "x.wav")


def test_rate_length_and_stereo_checks(tmp_path):
    for digit in "01":
        _write(tmp_path / f"{digit}_a_0.wav")
    _write(tmp_path / "1_a_1.wav", seconds=1.5)
    with pytest.raises(PipelineError, match=r"1_a_1.wav must last at most "
                                            r"speech.max_seconds=1 s\. "
                                            r"Received: .*='1.500 s'") as info:
        load_recordings(files=str(tmp_path / "*.wav"), label_pattern=r"^(\d)_", max_seconds=1)
    _one_line(info)
    _write(tmp_path / "1_a_1.wav", rate=16000)
    with pytest.raises(PipelineError, match=r"1_a_1.wav must be sampled at "
                                            r"speech.sample_rate=8000 "
                                            r"Hz, but it is 16000 Hz"):
        load_recordings(files=str(tmp_path / "*.wav"), label_pattern=r"^(\d)_")
    stereo = bytearray(wav_bytes(np.zeros(3200), 8000))  # 1600 stereo frames
    stereo[22:24], stereo[32:34] = struct.pack("<H", 2), struct.pack("<H", 4)
    stereo[28:32] = struct.pack("<I", 8000 * 4)
    (tmp_path / "1_a_1.wav").write_bytes(bytes(stereo))
    recordings, notes = load_recordings(files=str(tmp_path / "*.wav"), label_pattern=r"^(\d)_")
    assert notes == [f"{tmp_path / '1_a_1.wav'}: 2 channels, mixed down to mono"]
    assert [r.seconds for r in recordings] == [0.2, 0.2, 0.2]
    assert read_waveform(tmp_path / "1_a_1.wav")[0].shape == (1600,)


def test_label_patterns_that_match_no_file_or_one_class_are_refused(tmp_path):
    for name in ("0_a_0.wav", "0_b_0.wav", "1_a_0.wav"):
        _write(tmp_path / name)
    files = str(tmp_path / "*.wav")
    with pytest.raises(PipelineError, match=r"^label_pattern must match the file names, but "
                                            r"it matches none of the 3 files"):
        load_recordings(files=files, label_pattern=r"^digit(\d)")
    with pytest.raises(PipelineError, match=r"^label_pattern must give at least two classes, "
                                            r"but every one of the 3 files is labelled 'wav'"):
        load_recordings(files=files, label_pattern=r"(wav)$")
    with pytest.raises(PipelineError, match=r"^label_pattern must match every file name, but "
                                            r"1 of 3 do not \(e.g. 1_a_0.wav\)"):
        load_recordings(files=files, label_pattern=r"^(0)_")
    with pytest.raises(PipelineError, match=r"^files must match at least one file"):
        load_recordings(files=str(tmp_path / "*.flac"), label_pattern=r"^(\d)_")
    recordings, _ = load_recordings(files=files, label_pattern=r"^(\d)_",
                                    speaker_pattern=r"_([a-z])_")
    assert [(r.label, r.speaker) for r in recordings] == [("0", "a"), ("0", "b"), ("1", "a")]


def test_a_manifest_resolves_relative_paths_and_names_a_missing_file_by_line(tmp_path):
    (tmp_path / "audio").mkdir()
    _write(tmp_path / "audio" / "one.wav")
    _write(tmp_path / "two.wav")
    manifest = tmp_path / "list.tsv"
    manifest.write_text(f"audio/one.wav\tfour  zero\tann\n\n{tmp_path / 'two.wav'}\tseven\n")
    recordings, _ = load_recordings(manifest=str(manifest))
    assert [(r.path, r.label, r.speaker) for r in recordings] == [
        (str(tmp_path / "audio" / "one.wav"), "four zero", "ann"),
        (str(tmp_path / "two.wav"), "seven", None)]
    csv = tmp_path / "list.csv"
    csv.write_text("path,transcript\naudio/one.wav,four\nmissing.wav,two\n")
    with pytest.raises(PipelineError, match=rf"^{csv}:3 must name an existing WAV file\. "
                                            rf"Received: .*='missing.wav'") as info:
        load_recordings(manifest=str(csv))
    _one_line(info)


def test_official_split_of_fsdd(fsdd, official):
    assert len(fsdd) == 3000
    counts = {key: len(value) for key, value in official.items()}
    assert counts == {"train": 2430, "valid": 270, "test": 300}
    paths = {key: {r.path for r in value} for key, value in official.items()}
    assert not (paths["train"] & paths["valid"] or paths["train"] & paths["test"]
                or paths["valid"] & paths["test"])
    assert all(r.take < 5 for r in official["test"])
    assert {(r.speaker, r.label) for r in official["test"]} == {
        (r.speaker, r.label) for r in fsdd}  # 5 takes of every speaker and digit
    again = split_recordings(list(reversed(fsdd)), "official", valid_fraction=0.1, seed=0)
    assert again == official
    other = split_recordings(fsdd, "official", valid_fraction=0.1, seed=1)
    assert other["test"] == official["test"] and other["valid"] != official["valid"]


def test_speaker_and_fraction_splits_of_fsdd(fsdd):
    split = split_recordings(fsdd, "speaker", test_speaker="theo", seed=0)
    assert {r.speaker for r in split["test"]} == {"theo"} and len(split["test"]) == 500
    assert "theo" not in {r.speaker for r in split["train"] + split["valid"]}
    assert (len(split["train"]), len(split["valid"])) == (2250, 250)
    with pytest.raises(PipelineError, match=r"^test_speaker must be one of the speakers "
                                            r"\(george, jackson, lucas, nicolas, theo, "
                                            r"yweweler\)"):
        split_recordings(fsdd, "speaker", test_speaker="nobody")
    fractions = split_recordings(fsdd, "fractions", valid_fraction=0.2, test_fraction=0.25)
    assert [len(fractions[k]) for k in ("train", "valid", "test")] == [1800, 450, 750]
    assert len({r.path for k in fractions for r in fractions[k]}) == 3000


def test_concatenated_utterances_use_only_their_split_and_match_their_pieces(official):
    train = official["train"]
    utterances = concatenate_recordings(train, (1, 7), count=150, seed=0)
    again = concatenate_recordings(train, (1, 7), count=150, seed=0)
    assert [u.transcript for u in again] == [u.transcript for u in utterances]
    test_paths = {r.path for r in official["test"] + official["valid"]}
    by_path = {r.path: r for r in train}
    lengths = set()
    for utterance in utterances:
        assert not set(utterance.pieces) & test_paths
        pieces = [by_path[p] for p in utterance.pieces]
        assert utterance.transcript == " ".join(r.label for r in pieces)
        assert {r.speaker for r in pieces} == {utterance.speaker}
        assert len(set(utterance.pieces)) == len(pieces)
        lengths.add(len(pieces))
        audio = sum(len(read_waveform(p)[0]) for p in utterance.pieces)
        silence = len(utterance.waveform) - audio
        assert 800 * (len(pieces) - 1) - 1 <= silence <= 2400 * (len(pieces) - 1) + 1
    assert lengths == set(range(1, 8))
    first = utterances[0]
    decoded, length = decode_wavs([first.wav(8000)])
    np.testing.assert_allclose(decoded.numpy()[0], first.waveform, atol=1 / 32768)
    with pytest.raises(PipelineError, match=r"^concatenate must be \[min, max\]"):
        concatenate_recordings(train, (3, 2))


def test_frame_batches_carry_labels_or_padded_transcripts(official):
    from rnn_pipeline.tasks.speech.batches import frame_batches, frame_function
    from rnn_pipeline.tasks.speech.config import SpeechSection

    recordings = official["test"][:5]
    vocabulary = label_vocabulary(r.label for r in official["train"])
    assert vocabulary == [str(d) for d in range(10)]
    audio = read_audio(r.path for r in recordings)
    ids = encode_labels([r.label for r in recordings], vocabulary)
    frames = frame_function(SpeechSection())  # 8 kHz, 40 log-mel bands
    batches = list(frame_batches(audio, ids, frames, batch_size=2))
    assert [len(x["frames"]) for x, _ in batches] == [2, 2, 1]
    alone, mask = frames(audio[:1])
    real = int(mask.numpy().sum())
    np.testing.assert_allclose(batches[0][0]["frames"].numpy()[0, :real], alone.numpy()[0],
                               atol=1e-4)  # float32 round-off of the batched STFT
    assert batches[0][1].numpy().tolist() == ids[:2].tolist()
    words = word_vocabulary(["4 0 7", "1"])
    targets = encode_transcripts(["4 0 7", "1", "0"], words)
    (_, padded), = frame_batches(audio[:3], targets, frames, batch_size=3)
    assert words == ["0", "1", "4", "7"]
    assert padded.numpy().tolist() == [[2, 0, 3], [1, PAD_TARGET, PAD_TARGET],
                                       [0, PAD_TARGET, PAD_TARGET]]
    with pytest.raises(PipelineError, match=r"^label must be in the training vocabulary"):
        encode_labels(["x"], vocabulary)
