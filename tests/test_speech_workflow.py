"""`rnn-pipeline fit` on a speech pipeline (FSDD recordings of two digits, both heads),
then transcribe, evaluate, export, and serve over real HTTP with base64 WAV bytes."""

import base64
import json

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from tests_support import assert_one_line_error

PIPELINE = """
name = "tiny_speech"
task = "speech"
[speech]
files = ["{root}/[01]_jackson_[0-9].wav", "{root}/[01]_theo_[0-9].wav"]
label_pattern = '^(\\d)_'
speaker_pattern = '^\\d_([a-z]+)_'
split = "fractions"
valid_fraction = 0.2
test_fraction = 0.2
{extra}
[model]
units = 8
num_layers = 1
head = "{head}"
[train]
epochs = 2
batch_size = 8
"""


def _fit(folder, dataset, head="classify", extra=""):
    root = dataset("fsdd")["recordings"]
    pipeline = folder / "speech.toml"
    pipeline.write_text(PIPELINE.format(root=root.as_posix(), head=head, extra=extra))
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run, root


@pytest.fixture(scope="module")
def classified(fitted_speech, dataset, tmp_path_factory):
    """(a copy of the session's classify run: evaluate writes into it, FSDD's folder)."""
    import shutil

    run = tmp_path_factory.mktemp("classify") / "run"
    shutil.copytree(fitted_speech[1], run)
    return run, dataset("fsdd")["recordings"]


def test_classify_fits_transcribes_and_evaluates(classified):
    from rnn_pipeline.tasks.speech.workflow import SpeechWorkflow

    run, root = classified
    for name in ("speech_metrics.json", "predictions.tsv", "labels.txt", "model.keras",
                 "confusion_matrix.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "speech_metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["test"]["per_speaker"]) <= {"jackson", "theo"}
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0 and metrics["test"]["count"] == 8
    files = [root / "0_jackson_3.wav", root / "1_theo_2.wav"]
    result = CliRunner().invoke(cli, ["transcribe", str(run), *map(str, files)])
    assert result.exit_code == 0, result.output
    expected = SpeechWorkflow.from_run(run, log=lambda *_: None).transcribe(files)
    assert result.output.splitlines()[-2:] == [f"{f}\t{t} ({p:.3f})"
                                               for f, (t, p) in zip(files, expected)]
    evaluated = CliRunner().invoke(cli, ["evaluate", str(run)])
    assert evaluated.exit_code == 0, evaluated.output
    saved = json.loads((run / "evaluation" / "test.json").read_text(encoding="utf-8"))
    assert f"test accuracy {100 * saved['accuracy']:.2f}%, WER {100 * saved['wer']:.2f}%" in \
        evaluated.output


def test_the_export_is_served_base64_wav_over_http(classified, tmp_path):
    from test_serving import call, serving
    from tests_support import export_run

    from rnn_pipeline.serving.limits import ServeLimits
    from rnn_pipeline.tasks.speech.workflow import SpeechWorkflow

    run, root = classified
    path = export_run(run, tmp_path)
    wav = root / "1_jackson_4.wav"
    (label, probability), = SpeechWorkflow.from_run(run, log=lambda *_: None).transcribe([wav])
    # the default limits: a WAV file counts as its bytes / BYTES_PER_WORD words
    with serving(path.parent.parent, limits=ServeLimits()) as url:
        url += f"/v1/models/{path.parent.name}:predict"
        audio = {"b64": base64.b64encode(wav.read_bytes()).decode()}
        status, body = call(url, {"instances": [{"audio": audio}]})
        assert status == 200, body
        (row,) = body["predictions"]
        assert row["label"] == label
        assert max(row["probabilities"]) == pytest.approx(probability, abs=1e-5)
        bad = {"b64": base64.b64encode(b"RIFF....not a wav").decode()}
        status, body = call(url, {"instances": [{"audio": bad}]})
        assert (status, body["error"]) == (400, "audio must be a 16-bit PCM WAV file (a "
                                            "RIFF/WAVE header of 44 bytes or more). "
                                            "Received: audio=RIFF....not ")
        status, body = call(url, {"instances": [{"audio": audio}]})
        assert status == 200  # still serving


@pytest.mark.slow  # 14 s on 2 cores: the slow suite runs it
def test_ctc_on_joined_recordings_transcribes_words(tmp_path, dataset):
    result, run, root = _fit(tmp_path, dataset, head="ctc", extra="concatenate = [1, 2]")
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "speech_metrics.json").read_text(encoding="utf-8"))
    assert 0.0 <= metrics["test"]["wer"] and "cer" in metrics["valid"]
    assert "1-2 recordings each" in result.output
    assert (run / "ctc_alignment.png").read_bytes()[:4] == b"\x89PNG"
    done = CliRunner().invoke(cli, ["transcribe", str(run), str(root / "0_theo_1.wav")])
    assert done.exit_code == 0, done.output
    words = done.output.splitlines()[-1].split("\t")[1].split()
    assert set(words) <= {"0", "1"}


def test_transcribe_refuses_another_tasks_run(fitted_lm_run, tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    result = CliRunner().invoke(cli, ["transcribe", str(fitted_lm_run), str(wav)])
    assert_one_line_error(result, "RUN must be a speech run (task 'speech'), but its task is "
                                  "'causal_lm'")
