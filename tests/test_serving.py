"""The development REST server, over real HTTP on 127.0.0.1, with TF Serving's request
and response shapes."""

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.export import export_saved_model
from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing
from rnn_pipeline.serving import make_server
from rnn_pipeline.serving.limits import ServeLimits
from tests_support import tiny_lm

# Small limits, so that a test can reach each with a small request.
LIMITS = ServeLimits(max_request_bytes=64 * 1024, max_instances=8, max_words=300,
                     read_timeout=1.0, max_connections=8)


@contextlib.contextmanager
def serving(base, limits=LIMITS):
    """``make_server`` over ``base`` on a free port of 127.0.0.1, in a thread; yields
    its URL."""
    httpd = make_server(base, port=0, limits=limits)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """(model, export base) with versions 1 and 2 of model "tiny", both the same export:
    version 2 is a copy of version 1 (an export's next version number: test_export)."""
    import shutil

    model = tiny_lm()
    base = tmp_path_factory.mktemp("saved_models")
    path, _ = export_saved_model(
        lambda assets: LanguageModelServing(model, assets, top_words=3), base, "tiny")
    shutil.copytree(path, path.parent / "2")
    return model, base


@pytest.fixture(scope="module")
def server(exports):
    model, base = exports
    with serving(base) as url:
        yield model, url


NAN = float("nan")


def generation(**values):
    """One instance of the ``generate`` signature, ``values`` replacing these."""
    return {"prompt": "a", "max_tokens": 2, "temperature": 0.0, "top_k": 0, "seed": 0,
            **values}


def generating(*instances):
    """A row-format request body of the ``generate`` signature."""
    return {"signature_name": "generate", "instances": list(instances)}


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
    assert sorted(signatures) == ["generate", "next_words", "score", "serving_default"]
    prompt = signatures["serving_default"]["inputs"]["prompt"]
    assert prompt["dtype"] == "DT_STRING" and prompt["tensor_shape"]["dim"][0]["size"] == "-1"
    assert signatures["score"]["method_name"] == "tensorflow/serving/predict"
    # serving_default takes the data alone; generate's options say their defaults
    assert list(signatures["serving_default"]["inputs"]) == ["prompt"]
    assert "defaults" not in signatures["serving_default"]
    defaults = signatures["generate"]["defaults"]
    assert sorted(defaults) == ["max_tokens", "seed", "temperature", "top_k"]
    assert defaults["max_tokens"] == {"dtype": "DT_INT32", "tensor_shape": {"dim": [
        {"size": "1"}]}, "int_val": [30]}
    assert (defaults["temperature"]["float_val"], defaults["top_k"]["int_val"],
            defaults["seed"]["int_val"]) == ([1.0], [10], [0])


def test_predict_row_and_columnar_formats(server):
    model, url = server
    expected = [model.generate("the cat", max_tokens=4, sampler="greedy"),
                model.generate("a", max_tokens=4, sampler="top_k", k=3, seed=2)]
    rows = generating(generation(prompt="the cat", max_tokens=4),
                      generation(max_tokens=4, temperature=1.0, top_k=3, seed=2))
    status, body = call(f"{url}/v1/models/tiny:predict", rows)
    assert status == 200 and body == {"predictions": expected}  # one output: bare values

    columns = {"signature_name": "generate", "inputs": {
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
                        {"signature_name": "score", "inputs": {"text": ["the cat sat",
                                                                        "the zebra <unk>"]}})
    scores = model.score(["the cat sat", "the zebra <unk>"])
    assert status == 200 and body["outputs"]["num_tokens"] == [4, 4]
    assert body["outputs"]["unknown_words"] == [0, 1]  # "zebra"; the token "<unk>" is a word
    assert scores["unknown_words"].tolist() == [0, 1]
    assert body["outputs"]["log_likelihood"] == pytest.approx(
        scores["log_likelihood"].tolist(), abs=1e-5)


def test_serving_default_takes_the_prompt_alone_and_generates_as_generate_by_default(server):
    model, url = server
    status, body = call(f"{url}/v1/models/tiny:predict", {"instances": ["the", ""]})
    assert status == 200
    defaults = generation(max_tokens=30, temperature=1.0, top_k=10, seed=0)
    status, explicit = call(f"{url}/v1/models/tiny:predict",
                            generating({**defaults, "prompt": "the"}, {**defaults, "prompt": ""}))
    assert status == 200 and body == explicit
    assert body["predictions"] == model.generate(["the", ""], max_tokens=30, sampler="top_k",
                                                 k=10, seed=0)
    assert len(body["predictions"][0].split()) > 10  # it did generate


@pytest.mark.parametrize("path, body, code, message", [
    ("/v1/models/tiny:predict", b"{not json", 400, "JSON Parse error"),
    ("/v1/models/tiny:predict", generating({"prompt": "a"}), 400,
     "Missing input 'max_tokens' in instance 0"),
    ("/v1/models/tiny:predict", {"instances": [generation()]}, 400,
     "Unknown input 'max_tokens'. The signature's inputs: prompt."),
    ("/v1/models/tiny:predict", {"signature_name": "score", "inputs": {"text": [3]}}, 400,
     "Input 'text' expects strings"),
    ("/v1/models/tiny:predict", generating(generation(max_tokens="five")),
     400, "Input 'max_tokens' expects integers (int32)"),
    ("/v1/models/tiny:predict", generating(generation(), generation(max_tokens=-1)), 400,
     "max_tokens must be in [0, 1000]. Received: max_tokens=-1"),
    ("/v1/models/tiny:predict", generating(generation(max_tokens=2**32 + 5)), 400,
     "max_tokens must be in [-2147483648, 2147483647] (int32). Received: "
     "max_tokens=4294967301"),  # not 5: no wrapping around
    ("/v1/models/tiny:predict", generating(generation(seed=2**64)), 400,
     "seed must be in [-2147483648, 2147483647] (int32). Received: seed=18446744073709551616"),
    ("/v1/models/tiny:predict", generating(generation(), generation(temperature=NAN)),
     400, "temperature must be a finite number (<= 0 is greedy). Received: temperature=nan"),
    ("/v1/models/tiny:predict", generating(generation(temperature=1e39)), 400,
     "temperature must be within float32's range (±3.403e+38). Received: temperature=1e+39"),
    ("/v1/models/tiny:predict", {"signature_name": "generate", "inputs": {
        **{k: [v] for k, v in generation().items()}, "prompt": ["a", "b"]}}, 400,
     "inputs max_tokens and prompt must have the same batch size. Received: 1 and 2 rows"),
    ("/v1/models/tiny:predict", {"instances": ["a"] * 9}, 400,
     "instances must be at most 8 per request (serve --max-instances sets it). Received: "
     "instances=9"),
    ("/v1/models/tiny:predict", {"signature_name": "score",
                                 "instances": ["the cat " * 100, "a dog"]}, 400,
     "words must be at most 300 per request, counted as rows x the longest row's words and "
     "max_tokens (serve --max-words sets it; send long texts in requests of their own). "
     "Received: words=400 (rows 2 x 200)"),
    ("/v1/models/tiny:predict", generating(*[generation(max_tokens=100)] * 3), 400,
     "Received: words=303 (rows 3 x 101)"),  # "a" and 100 tokens to generate, 3 times
    ("/v1/models/tiny:predict", {"signature_name": "score",
                                 "instances": ["東京で猫が寝た" * 150]}, 400,
     "Received: words=315 (rows 1 x 315)"),  # no spaces: a word per 10 bytes
    ("/v1/models/tiny:predict", {"signature_name": 5, "instances": ["a"]}, 400,
     '"signature_name" must be a string. Received: 5'),
    ("/v1/models/tiny:predict", {"signature_name": "score",
                                 "inputs": {"text": [{"b64": "not base64!"}]}}, 400,
     "Input 'text' has a {\"b64\": ...} value that is not base64"),
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
    assert "[[" not in answer["error"] and "node" not in answer["error"]  # no TF internals
    assert call(f"{url}/v1/models/tiny")[0] == 200  # still serving


def test_serve_command_answers_over_http_and_rejects_a_missing_base(exports, tmp_path):
    import subprocess
    import sys

    from click.testing import CliRunner
    from rnn_pipeline.cli.main import cli

    missing = CliRunner().invoke(cli, ["serve", "--base", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert missing.output.strip() == (f"Error: --base must be an existing folder of exports. "
                                      f"Received: --base={tmp_path / 'nowhere'}")

    process = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve",
                                "--base", str(exports[1]), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        port = first.split("http://127.0.0.1:")[1].split("/")[0]
        status, body = call(f"http://127.0.0.1:{port}/v1/models/tiny:predict",
                            {"signature_name": "score", "instances": ["the cat"]})
        assert status == 200 and body["predictions"][0]["num_tokens"] == 3, body
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_forecast_export_answers_rows_of_windows(server, tmp_path):
    import numpy as np

    from rnn_pipeline.tasks.forecast.serving import ForecastServing
    from rnn_pipeline.tasks.forecast.model import Forecaster

    model = Forecaster(6, 3, 2, 1, mean=[10.0, 5.0], std=[2.0, 1.0], units=4)
    export_saved_model(lambda assets: ForecastServing(model), tmp_path, "fc")
    with serving(tmp_path) as url:
        url += "/v1/models/fc:predict"
        windows = np.arange(24, dtype=np.float32).reshape(2, 6, 2)
        status, body = call(url, {"instances": [{"history": w.tolist()} for w in windows]})
        assert status == 200
        np.testing.assert_allclose(body["predictions"], model.predict(windows, verbose=0),
                                   rtol=1e-5)
        status, body = call(url, {"inputs": {"history": windows[:, :5].tolist()}})
        assert status == 400 and "Input 'history' must have shape ['batch', 6, 2]" in \
            body["error"]
        windows[1, 3, 0] = np.nan
        status, body = call(url, {"inputs": {"history": windows.tolist()}})
        assert (status, body["error"]) == (400, "history must hold finite numbers only. "
                                                "Received: history=nan")


def exchange(url, data, timeout=10):
    """Sends raw bytes to the server of ``url`` and reads until it closes the connection:
    (seconds taken, the whole answer as text)."""
    host, port = url.split("//")[1].split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return time.monotonic() - started, answer.decode("utf-8")


def post_head(headers):
    return (f"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: test\r\n{headers}\r\n"
            f"\r\n").encode()


@pytest.mark.parametrize("data, code, message", [
    pytest.param(post_head("Content-Length: abc"), 400, "Content-Length must be a whole "
                 "number of bytes. Received: Content-Length='abc'", id="length-abc"),
    pytest.param(post_head("Content-Length: -5"), 400, "Received: Content-Length='-5'",
                 id="length-negative"),
    pytest.param(post_head("Content-Length: 2\r\nContent-Length: 3") + b"{}", 400,
                 "Content-Length must be given once. Received: Content-Length='2, 3'",
                 id="length-twice"),
    pytest.param(post_head("Content-Length: 100") + b'{"instances": ', 408,
                 "The request body did not arrive within 1 s (serve --read-timeout sets it): "
                 "14 of its 100 bytes came", id="body-shorter-than-its-length"),
    pytest.param(post_head("Content-Length: 100000") + b"x" * 100_000, 413,
                 "Content-Length must be at most 65536 bytes (serve --max-request-bytes sets "
                 "it). Received: Content-Length=100000", id="body-too-large"),
    pytest.param(post_head("Content-Length: 100000\r\nExpect: 100-continue"), 413,
                 "Content-Length must be at most 65536 bytes", id="too-large-before-sent"),
    pytest.param(post_head("Transfer-Encoding: chunked") + b"2\r\n{}\r\n0\r\n\r\n", 411,
                 "Transfer-Encoding is not read here; send a Content-Length", id="chunked"),
    pytest.param(b"PUT /v1/models/tiny HTTP/1.1\r\nHost: test\r\n\r\n", 405,
                 "Only GET and POST are served here. Received: method='PUT'", id="put"),
    pytest.param(b"NONSENSE\r\n\r\n", 400, "Bad request syntax ('NONSENSE')",
                 id="request-line"),
])
def test_malformed_http_is_answered_in_json_and_the_connection_closed(server, data, code,
                                                                      message):
    _, url = server
    seconds, answer = exchange(url, data)
    head, body = answer.split("\r\n\r\n", 1)
    assert head.startswith(f"HTTP/1.1 {code} ") and "Connection: close" in head, head
    assert message in json.loads(body)["error"]
    assert seconds < (3 if code == 408 else 1)
    assert call(f"{url}/v1/models/tiny")[0] == 200  # still serving


def test_an_oversized_body_sent_whole_gets_413_not_a_reset_connection(server):
    _, url = server
    status, answer = call(f"{url}/v1/models/tiny:predict", raw=b"x" * 3_000_000)
    assert status == 413 and "Received: Content-Length=3000000" in answer["error"]


def test_connections_are_bounded_and_an_idle_one_is_closed_after_the_read_timeout(exports):
    with serving(exports[1], ServeLimits(read_timeout=0.5, max_connections=2)) as url:
        host, port = url.split("//")[1].split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(2)]
        time.sleep(0.1)
        status, answer = call(f"{url}/v1/models/tiny")
        assert status == 503 and "--max-connections" in answer["error"]
        time.sleep(0.8)  # the idle connections are closed after 0.5 s
        assert [connection.recv(1) for connection in idle] == [b"", b""]
        assert call(f"{url}/v1/models/tiny")[0] == 200
        for connection in idle:
            connection.close()


def test_max_tokens_0_returns_the_prompt_in_the_export_and_the_library(server):
    model, url = server
    status, body = call(f"{url}/v1/models/tiny:predict",
                        generating(generation(prompt="the cat", max_tokens=0),
                                   generation(prompt="", max_tokens=0, temperature=1.0)))
    assert (status, body) == (200, {"predictions": ["the cat", ""]})
    assert model.generate(["the cat", "a"], max_tokens=0) == ["the cat", "a"]
    with pytest.raises(PipelineError, match=r"^max_tokens must be in \[0, 10000\]\. "
                                            r"Received: max_tokens=10001$"):
        model.generate("a", max_tokens=10_001)


def test_the_export_refuses_a_max_tokens_limit_no_request_could_use(tmp_path):
    with pytest.raises(PipelineError, match=r"^--max-tokens-limit must be in \[1, 10000\]\. "
                                            r"Received: --max-tokens-limit=1000000000000$"):
        LanguageModelServing(tiny_lm(), tmp_path, max_tokens_limit=10**12)


def test_a_tensorflow_failure_reaches_the_client_without_tensorflow_text(capsys):
    import tensorflow as tf

    from rnn_pipeline.serving.repository import ServerFault, request_error

    internal = tf.errors.InvalidArgumentError(
        None, None, "Tried to stack elements of an empty list\n\t [[{{node cond/"
                    "TensorArrayV2Stack/TensorListStack}}]] [Op:__inference_generate_99]")
    error = request_error(internal, "signature 'serving_default' of tiny/1")
    assert isinstance(error, ServerFault) and error.status == 500
    assert str(error) == ("signature 'serving_default' of tiny/1 failed "
                          "(InvalidArgumentError); the server's log has the details")
    assert "TensorListStack" in capsys.readouterr().err  # the log has it, the client not

    checked = tf.errors.InvalidArgumentError(
        None, None, "assertion failed: [max_tokens must be in [0, 1000]. Received: "
                    "max_tokens=] [5000]\n\t [[{{node Assert/Assert}}]]")
    assert str(request_error(checked, "")) == ("max_tokens must be in [0, 1000]. Received: "
                                               "max_tokens=5000")


def test_a_version_is_loaded_once_however_many_requests_ask_for_it_at_once(exports,
                                                                           monkeypatch):
    from rnn_pipeline.serving import repository

    loads = []
    original = repository.Servable.__init__

    def counted(self, *args):
        loads.append(args[0])
        time.sleep(0.2)  # the others ask while it loads
        original(self, *args)

    monkeypatch.setattr(repository.Servable, "__init__", counted)
    models = repository.ModelRepository(exports[1], threads=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(models.servable("tiny", 2)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(results) == 4 and len({id(r) for r in results}) == 1
