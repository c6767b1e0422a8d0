"""The development REST server, over real HTTP on 127.0.0.1, with TF Serving's request
and response shapes."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from rnn_pipeline.export import export_saved_model
from rnn_pipeline.export.lm_serving import LanguageModelServing
from rnn_pipeline.serving import make_server
from tests_support import tiny_lm


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = tiny_lm()
    base = tmp_path_factory.mktemp("saved_models")
    for _ in range(2):  # versions 1 and 2
        export_saved_model(lambda assets: LanguageModelServing(model, assets, top_words=3),
                           base, "tiny")
    httpd = make_server(base, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield model, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def call(url, body=None, raw=None):
    """(HTTP status, JSON body) of a GET (no body) or POST."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_status_and_metadata(server):
    _, url = server
    status, body = call(f"{url}/v1/models/tiny")
    assert status == 200
    assert [v["version"] for v in body["model_version_status"]] == ["2", "1"]
    assert body["model_version_status"][0]["state"] == "AVAILABLE"
    assert call(f"{url}/v1/models/tiny/versions/1")[1]["model_version_status"][0]["version"] == "1"

    status, body = call(f"{url}/v1/models/tiny/metadata")
    assert status == 200 and body["model_spec"] == {"name": "tiny", "signature_name": "",
                                                    "version": "2"}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert sorted(signatures) == ["next_words", "score", "serving_default"]
    prompt = signatures["serving_default"]["inputs"]["prompt"]
    assert prompt["dtype"] == "DT_STRING" and prompt["tensor_shape"]["dim"][0]["size"] == "-1"
    assert signatures["score"]["method_name"] == "tensorflow/serving/predict"


def test_predict_row_and_columnar_formats(server):
    model, url = server
    expected = [model.generate("the cat", max_tokens=4, sampler="greedy"),
                model.generate("a", max_tokens=4, sampler="top_k", k=3, seed=2)]
    rows = {"instances": [
        {"prompt": "the cat", "max_tokens": 4, "temperature": 0.0, "top_k": 0, "seed": 0},
        {"prompt": "a", "max_tokens": 4, "temperature": 1.0, "top_k": 3, "seed": 2}]}
    status, body = call(f"{url}/v1/models/tiny:predict", rows)
    assert status == 200 and body == {"predictions": expected}  # one output: bare values

    columns = {"signature_name": "serving_default", "inputs": {
        "prompt": ["the cat", "a"], "max_tokens": [4, 4], "temperature": [0.0, 1.0],
        "top_k": [0, 3], "seed": [0, 2]}}
    status, body = call(f"{url}/v1/models/tiny/versions/1:predict", columns)
    assert status == 200 and body == {"outputs": expected}

    status, body = call(f"{url}/v1/models/tiny:predict",
                        {"signature_name": "next_words", "instances": ["the", "a dog"]})
    assert status == 200 and len(body["predictions"]) == 2
    first = body["predictions"][0]
    assert sorted(first) == ["probabilities", "words"] and len(first["words"]) == 3
    assert first["probabilities"] == sorted(first["probabilities"], reverse=True)

    status, body = call(f"{url}/v1/models/tiny:predict",
                        {"signature_name": "score", "inputs": {"text": ["the cat sat"]}})
    scores = model.score(["the cat sat"])
    assert status == 200 and body["outputs"]["num_tokens"] == [4]
    assert body["outputs"]["log_likelihood"][0] == pytest.approx(
        float(scores["log_likelihood"][0]), abs=1e-5)


@pytest.mark.parametrize("path, body, code, message", [
    ("/v1/models/tiny:predict", b"{not json", 400, "JSON Parse error"),
    ("/v1/models/tiny:predict", {"instances": [{"prompt": "a"}]}, 400,
     "Missing input 'max_tokens' in instance 0"),
    ("/v1/models/tiny:predict", {"signature_name": "score", "inputs": {"text": [3]}}, 400,
     "Input 'text' expects strings"),
    ("/v1/models/tiny:predict", {"instances": [{"prompt": "a", "max_tokens": "five",
                                                "temperature": 0.0, "top_k": 0, "seed": 0}]},
     400, "Input 'max_tokens' expects integers (int32)"),
    ("/v1/models/tiny:predict", {"instances": [{"prompt": "a", "max_tokens": 5000,
                                                "temperature": 0.0, "top_k": 0, "seed": 0}]},
     400, "max_tokens must be in [0, 1000]"),
    ("/v1/models/tiny:predict", {"signature_name": "nope", "instances": ["a"]}, 400,
     'Serving signature name: "nope" not found'),
    ("/v1/models/absent:predict", {"instances": ["a"]}, 404,
     "Servable not found for request: Latest(absent)"),
    ("/v1/models/tiny/versions/7:predict", {"instances": ["a"]}, 404,
     "Servable not found for request: Specific(tiny, 7)"),
    ("/v1/models/tiny/versions/7", None, 404, "Specific(tiny, 7)"),
])
def test_bad_requests_get_tf_serving_codes_and_the_server_stays_up(server, path, body, code,
                                                                   message):
    _, url = server
    raw = body if isinstance(body, bytes) else None
    status, answer = call(url + path, None if raw else body, raw=raw)
    assert status == code and message in answer["error"]
    assert call(f"{url}/v1/models/tiny")[0] == 200  # still serving


def test_serve_command_answers_over_http_and_rejects_a_missing_base(server, tmp_path):
    import subprocess
    import sys

    from click.testing import CliRunner
    from rnn_pipeline.cli.main import cli

    missing = CliRunner().invoke(cli, ["serve", "--base", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert missing.output.strip() == (f"Error: --base must be an existing folder of exports. "
                                      f"Received: --base={tmp_path / 'nowhere'}")

    model = tiny_lm()
    export_saved_model(lambda assets: LanguageModelServing(model, assets), tmp_path, "cli")
    process = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve",
                                "--base", str(tmp_path), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        port = first.split("http://127.0.0.1:")[1].split("/")[0]
        status, body = call(f"http://127.0.0.1:{port}/v1/models/cli:predict",
                            {"signature_name": "score", "instances": ["the cat"]})
        assert status == 200 and body["predictions"][0]["num_tokens"] == 3, body
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_forecast_export_answers_rows_of_windows(server, tmp_path):
    import numpy as np

    from rnn_pipeline.export.forecast_serving import ForecastServing
    from rnn_pipeline.models.forecaster import Forecaster

    model = Forecaster(6, 3, 2, 1, mean=[10.0, 5.0], std=[2.0, 1.0], units=4)
    export_saved_model(lambda assets: ForecastServing(model), tmp_path, "fc")
    httpd = make_server(tmp_path, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1/models/fc:predict"
        windows = np.arange(24, dtype=np.float32).reshape(2, 6, 2)
        status, body = call(url, {"instances": [{"history": w.tolist()} for w in windows]})
        assert status == 200
        np.testing.assert_allclose(body["predictions"], model.predict(windows, verbose=0),
                                   rtol=1e-5)
        status, body = call(url, {"inputs": {"history": windows[:, :5].tolist()}})
        assert status == 400 and "Input 'history' must have shape ['batch', 6, 2]" in \
            body["error"]
    finally:
        httpd.shutdown()
        httpd.server_close()
