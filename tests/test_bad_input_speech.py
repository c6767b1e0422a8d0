"""The bad-input suite, speech: each mistake of issue 37's list is one ``Error: ...`` line
naming the file (and line), key or value, exit 2, and no run folder is written."""

import numpy as np
import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.tasks.speech.wavs import wav_bytes
from tests_support import assert_one_line_error

SECOND = wav_bytes(np.full(8000, 0.1, np.float32), 8000)  # 1 s of 16-bit PCM at 8 kHz


def _fit(folder, sources, files=None):
    """Writes ``files`` ({name: bytes}) and a pipeline reading them by ``sources``."""
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    pipeline = folder / "speech.toml"
    pipeline.write_text(f'task = "speech"\n[speech]\nsplit = "fractions"\n{sources}\n'
                        f'[model]\nunits = 4\nnum_layers = 1\n', encoding="utf-8")
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


def _files(last):
    return {"0_a_0.wav": SECOND, "1_a_0.wav": SECOND, "1_a_1.wav": last}


BY_NAME = "files = ['{folder}/*.wav']\nlabel_pattern = '^(\\d)_'"


@pytest.mark.parametrize("files, sources, expected", [
    pytest.param(_files(b"not a wav file at all"), BY_NAME,
                 "{folder}/1_a_1.wav must be a WAV file (starting with a RIFF", id="not-wav"),
    pytest.param(_files(b""), BY_NAME, "{folder}/1_a_1.wav must be a WAV file, but it is empty",
                 id="empty-wav"),
    pytest.param(_files(SECOND[:1000]), BY_NAME, "{folder}/1_a_1.wav must be a whole WAV file, "
                 "but it is truncated: its 'data' chunk declares 16000 bytes and 956 follow",
                 id="truncated-wav"),
    pytest.param(_files(wav_bytes(np.zeros(8000 * 11), 8000)), BY_NAME,
                 "{folder}/1_a_1.wav must last at most speech.max_seconds=10 s",
                 id="over-max-seconds"),
    pytest.param(_files(SECOND), BY_NAME.replace("^(\\d)_", "^digit(\\d)"),
                 "speech.label_pattern must match the file names, but it matches none of the "
                 "3 files", id="pattern-matches-nothing"),
    pytest.param(_files(SECOND), BY_NAME.replace("^(\\d)_", "(wav)$"),
                 "speech.label_pattern must give at least two classes, but every one of the 3 "
                 "files is labelled 'wav'", id="pattern-gives-one-class"),
    pytest.param({**_files(SECOND), "list.tsv": b"0_a_0.wav\tzero\nmissing.wav\tone\n"},
                 "manifest = '{folder}/list.tsv'",
                 "{folder}/list.tsv:2 must name an existing WAV file", id="manifest-missing-file"),
])
def test_fit_refuses_the_recordings_before_the_run_folder(tmp_path, files, sources, expected):
    result, run = _fit(tmp_path, sources.format(folder=tmp_path.as_posix()), files)
    assert_one_line_error(result, expected.format(folder=tmp_path.as_posix()), absent=[run])
