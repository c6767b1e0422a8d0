"""``serve``'s gRPC API (TF Serving's PredictionService and ModelService), with the real
stubs of tensorflow-serving-api over loopback, beside the REST server over the same models:
the same answers, the same error texts, TF Serving's status codes."""

import base64
import contextlib
import shutil
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import grpc
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from google.protobuf import json_format
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_log_pb2, prediction_service_pb2_grpc)

from rnn_pipeline.cli.main import cli
from rnn_pipeline.export.warmup import WARMUP_FILE
from rnn_pipeline.serving import make_server
from rnn_pipeline.serving.grpc_server import make_grpc_server
from rnn_pipeline.serving.limits import ServeLimits
from rnn_pipeline.serving.rest import response_body
from test_bad_input_serve import busy_port  # noqa: F401  (a fixture: a port held here)
from test_serving import call
from tests_support import assert_one_line_error

LIMITS = ServeLimits(max_request_bytes=64 * 1024, max_instances=8, max_words=300,
                     read_timeout=5.0, max_connections=8)


@contextlib.contextmanager
def serving(base, limits=LIMITS):
    """The REST server and a gRPC server over its `ModelRepository`, on free ports of
    127.0.0.1; yields the REST URL and the two gRPC stubs."""
    httpd = make_server(base, port=0, limits=limits)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server, port = make_grpc_server(httpd.repository, port=0, limits=limits)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_address[1]}",
                              predict=prediction_service_pb2_grpc.PredictionServiceStub(channel),
                              models=model_service_pb2_grpc.ModelServiceStub(channel))
    finally:
        channel.close()
        server.stop(None)
        httpd.shutdown()
        httpd.server_close()


def predict_request(model, signature="", version=None, **inputs):
    """A PredictRequest; ``inputs`` are TensorProtos, or what `tf.make_tensor_proto`
    takes."""
    message = predict_pb2.PredictRequest()
    message.model_spec.name, message.model_spec.signature_name = model, signature
    if version is not None:
        message.model_spec.version.value = version
    for name, value in inputs.items():
        message.inputs[name].CopyFrom(value if isinstance(value, tensor_pb2.TensorProto)
                                      else tf.make_tensor_proto(value))
    return message


def rpc(method, message):
    """(status code, the answer or the error's text) of one RPC."""
    try:
        return grpc.StatusCode.OK, method(message, timeout=60)
    except grpc.RpcError as error:
        return error.code(), error.details()


def rest_value(array):
    """A request's NumPy array as REST JSON: strings as text, or {"b64": ...} (bytes that
    are not UTF-8, e.g. a WAV file)."""
    def leaf(value):
        if not isinstance(value, bytes):
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}

    if array.dtype.kind in "OS":
        return np.vectorize(leaf, otypes=[object])(array.astype(object)).tolist()
    return array.tolist()


def metadata(servers, model):
    """(the gRPC GetModelMetadata response, its SignatureDefMap)."""
    message = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    message.model_spec.name = model
    answer = servers.predict.GetModelMetadata(message, timeout=60)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert answer.metadata["signature_def"].Unpack(signature_map)
    return answer, signature_map


def warmup_requests(version_folder):
    """{signature: {input: NumPy array}} of a version's warm-up requests (real requests,
    one per signature, written by ``export``)."""
    found = {}
    for record in tf.data.TFRecordDataset(str(version_folder / "assets.extra" / WARMUP_FILE)):
        logged = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log
        found[logged.request.model_spec.signature_name] = {
            name: tf.make_ndarray(tensor) for name, tensor in logged.request.inputs.items()}
    return found


def assert_every_signature_answers_as_over_rest(servers, base, model):
    """Predict on every signature that GetModelMetadata lists answers what REST answers
    for the same request, and the metadata and status agree with REST's."""
    answer, signature_map = metadata(servers, model)
    status, rest = call(f"{servers.url}/v1/models/{model}/metadata")
    assert status == 200 and answer.model_spec.version.value == int(rest["model_spec"]["version"])
    assert json_format.MessageToDict(signature_map, preserving_proto_field_name=True) == \
        {key: value for key, value in rest["metadata"]["signature_def"].items() if key != "@type"}
    requests = warmup_requests(base / model / str(answer.model_spec.version.value))
    assert sorted(signature_map.signature_def) == sorted(requests)  # each has one to send
    for signature, inputs in requests.items():
        code, predicted = rpc(servers.predict.Predict, predict_request(model, signature, **inputs))
        assert code == grpc.StatusCode.OK, (signature, predicted)
        assert (predicted.model_spec.name, predicted.model_spec.signature_name,
                predicted.model_spec.version.value) == (model, signature, 1)
        outputs = {key: tf.make_ndarray(value) for key, value in predicted.outputs.items()}
        assert sorted(outputs) == sorted(signature_map.signature_def[signature].outputs)
        status, expected = call(f"{servers.url}/v1/models/{model}:predict", {
            "signature_name": signature,
            "inputs": {name: rest_value(value) for name, value in inputs.items()}})
        assert status == 200, (signature, expected)
        assert response_body(outputs, "columnar") == expected, signature
    status = servers.models.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(
        model_spec={"name": model}), timeout=60)
    assert [(s.version, get_model_status_pb2.ModelVersionStatus.State.Name(s.state))
            for s in status.model_version_status] == [(1, "AVAILABLE")]


@pytest.fixture(scope="module")
def lm(exported_lm_run):
    with serving(exported_lm_run) as servers:
        yield servers


def test_every_signature_of_the_language_model_answers_as_over_rest(lm, exported_lm_run):
    assert_every_signature_answers_as_over_rest(lm, exported_lm_run, "tiny")


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["fitted_translation", "fitted_tagging", "fitted_speech",
                                     "fitted_forecast"])
def test_every_signature_of_each_task_answers_as_over_rest(request, tmp_path, fixture):
    _, run = request.getfixturevalue(fixture)
    base = tmp_path / "saved_models"
    done = CliRunner().invoke(cli, ["export", str(run), "--base", str(base), "--name", "m"])
    assert done.exit_code == 0, done.output
    with serving(base, ServeLimits()) as servers:  # a WAV file counts as 1,000s of words
        assert_every_signature_answers_as_over_rest(servers, base, "m")


GENERATE = {"prompt": [b"the"], "max_tokens": np.int32([2]), "temperature": np.float32([0]),
            "top_k": np.int32([0]), "seed": np.int32([0])}


def rest_inputs(inputs):
    return {name: rest_value(np.asarray(value)) for name, value in inputs.items()}


# (model, version, signature, inputs, HTTP status, gRPC code, the error's text); bad base64
# is REST's alone (gRPC carries bytes), and so is bad JSON.
BAD = [
    ("tiny", None, "nope", {"text": [b"a"]}, 400, "INVALID_ARGUMENT",
     'Serving signature name: "nope" not found in signature def. Available: '),
    ("tiny", None, "score", {}, 400, "INVALID_ARGUMENT",
     "Missing input 'text'. The signature's inputs: text."),
    ("tiny", None, "score", {"text": [b"a"], "extra": [1]}, 400, "INVALID_ARGUMENT",
     "Unknown input 'extra'. The signature's inputs: text."),
    ("tiny", None, "score", {"text": np.int32([3])}, 400, "INVALID_ARGUMENT",
     "Input 'text' expects strings. Received: 3"),
    ("tiny", None, "generate", {**GENERATE, "max_tokens": [b"five"]}, 400, "INVALID_ARGUMENT",
     "Input 'max_tokens' expects integers (int32). Received: 'five'"),
    ("tiny", None, "score", {"text": [[b"a"]]}, 400, "INVALID_ARGUMENT",
     "Input 'text' must have shape ['batch']. Received: shape [1, 1]"),
    ("tiny", None, "generate", {**GENERATE, "seed": np.int64([2**32 + 5])}, 400,
     "INVALID_ARGUMENT", "seed must be in [-2147483648, 2147483647] (int32). "
                         "Received: seed=4294967301"),
    ("tiny", None, "generate", {**GENERATE, "max_tokens": np.int32([-1])}, 400,
     "INVALID_ARGUMENT", "max_tokens must be in [0, "),  # the export's own check
    ("tiny", None, "generate", {**GENERATE, "prompt": [b"a", b"b"]}, 400, "INVALID_ARGUMENT",
     "inputs max_tokens and prompt must have the same batch size. Received: 1 and 2 rows"),
    ("tiny", None, "score", {"text": [b"a"] * 9}, 400, "INVALID_ARGUMENT",
     "instances must be at most 8 per request (serve --max-instances sets it). "
     "Received: instances=9"),
    ("tiny", None, "東京", {"text": [b"a"]}, 400, "INVALID_ARGUMENT",
     'Serving signature name: "東京" not found'),
    ("tiny", 7, "score", {"text": [b"a"]}, 404, "NOT_FOUND",
     "Servable not found for request: Specific(tiny, 7)"),
    ("absent", None, "score", {"text": [b"a"]}, 404, "NOT_FOUND",
     "Servable not found for request: Latest(absent)"),
]


@pytest.mark.parametrize("model, version, signature, inputs, status, code, text", BAD,
                         ids=[case[-1][:40] for case in BAD])
def test_a_bad_request_gets_the_same_text_over_grpc_and_rest(lm, model, version, signature,
                                                             inputs, status, code, text):
    got_code, details = rpc(lm.predict.Predict,
                            predict_request(model, signature, version, **inputs))
    path = f"/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
    got_status, answer = call(lm.url + path, {"signature_name": signature,
                                              "inputs": rest_inputs(inputs)})
    assert (got_code, got_status) == (getattr(grpc.StatusCode, code), status)
    assert text in details and details == answer["error"]
    assert "[[" not in details and "node" not in details  # no TensorFlow internals
    assert rpc(lm.predict.Predict, predict_request("tiny", "score", text=[b"the cat"]))[0] == \
        grpc.StatusCode.OK  # still serving


def test_an_oversized_message_is_refused_unread_and_the_server_keeps_serving(lm):
    big = [b"the cat " * 10_000]  # 80 kB: over max_request_bytes (64 KiB), over both APIs
    code, details = rpc(lm.predict.Predict, predict_request("tiny", "score", text=big))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED  # gRPC's own text: no REST twin
    assert f"vs. {LIMITS.max_request_bytes}" in details
    status, answer = call(f"{lm.url}/v1/models/tiny:predict",
                          {"signature_name": "score", "inputs": {"text": [big[0].decode()]}})
    assert status == 413 and "serve --max-request-bytes sets it" in answer["error"]
    huge = tf.make_tensor_proto("a", shape=[10**9])  # a small message, a huge tensor
    code, details = rpc(lm.predict.Predict, predict_request("tiny", "score", text=huge))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details == (
        "Input 'text' must have a shape of at most 65536 values (serve --max-request-bytes "
        "sets it), none unknown. Received: shape [1000000000]")
    assert rpc(lm.predict.Predict, predict_request("tiny", "score", text=[b"a"]))[0] == \
        grpc.StatusCode.OK


def test_metadata_and_status_refuse_what_tf_serving_refuses(lm):
    message = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["x"])
    message.model_spec.name = "tiny"
    assert rpc(lm.predict.GetModelMetadata, message) == (
        grpc.StatusCode.INVALID_ARGUMENT, 'metadata_field must be ["signature_def"], the '
                                          "metadata served. Received: metadata_field=['x']")
    status = get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "absent"})
    assert rpc(lm.models.GetModelStatus, status) == (
        grpc.StatusCode.NOT_FOUND, "Could not find any versions of model absent")
    assert call(f"{lm.url}/v1/models/absent")[1]["error"] == \
        "Could not find any versions of model absent"


def test_requests_run_side_by_side_up_to_max_connections_then_unavailable(lm, monkeypatch):
    from rnn_pipeline.serving import repository

    limit = LIMITS.max_connections
    inside = threading.Barrier(limit + 1, timeout=30)  # the requests and this test
    run = repository.Signature.__call__

    def held(self, inputs):  # served one at a time, the barrier would time out
        inside.wait()
        return run(self, inputs)

    monkeypatch.setattr(repository.Signature, "__call__", held)
    answers = []
    askers = [threading.Thread(target=lambda: answers.append(rpc(
        lm.predict.Predict, predict_request("tiny", "score", text=[b"the cat"]))))
        for _ in range(limit)]
    for asker in askers:
        asker.start()
    wait_for(lambda: inside.n_waiting == limit)
    over = rpc(lm.predict.Predict, predict_request("tiny", "score", text=[b"a"]))
    inside.wait()
    for asker in askers:
        asker.join()
    assert over == (grpc.StatusCode.UNAVAILABLE, f"The server is serving {limit} requests, "
                                                 f"its limit (serve --max-connections sets "
                                                 f"it); try again.")
    assert [code for code, _ in answers] == [grpc.StatusCode.OK] * limit


def test_a_new_version_swaps_in_while_requests_keep_being_answered(tmp_path, exported_lm_run):
    base = tmp_path / "saved_models"
    shutil.copytree(exported_lm_run, base)
    (base / "tiny" / "1" / "assets.extra" / WARMUP_FILE).unlink()  # each version loads faster
    answers, done = [], threading.Event()

    def versions_seen():
        return [answer.model_spec.version.value for code, answer in answers
                if code == grpc.StatusCode.OK]

    with serving(base) as servers:
        def keep_asking():
            while not done.is_set():
                answers.append(rpc(servers.predict.Predict,
                                   predict_request("tiny", "score", text=[b"the cat"])))

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:  # version 2 written as export writes it: staged, then renamed in at once
            wait_for(lambda: len(answers) >= 5)
            shutil.copytree(base / "tiny" / "1", base / "tiny" / ".export-staged")
            (base / "tiny" / ".export-staged").rename(base / "tiny" / "2")
            wait_for(lambda: versions_seen().count(2) >= 5)  # loaded on first use, and served
        finally:
            done.set()
            asker.join()
        assert {code for code, _ in answers} == {grpc.StatusCode.OK}, answers[-1]
        seen = versions_seen()
        assert set(seen) == {1, 2} and seen == sorted(seen)  # 2 once it is there, only 2
        status = servers.models.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(
            model_spec={"name": "tiny"}), timeout=60)
        assert [s.version for s in status.model_version_status] == [2, 1]
        assert call(f"{servers.url}/v1/models/tiny/metadata")[1]["model_spec"]["version"] == "2"


def wait_for(condition, seconds=60):
    """Waits until ``condition()`` holds (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_serve_refuses_a_grpc_port_in_use_in_one_line(exported_lm_run, busy_port):
    result = CliRunner().invoke(cli, ["serve", "--base", str(exported_lm_run), "--port", "0",
                                      "--grpc-port", str(busy_port)])
    assert_one_line_error(result, f"--grpc-port is in use on 127.0.0.1: pick another, or 0 "
                                  f"for a free one (Address already in use). Received: "
                                  f"--grpc-port={busy_port}")


@pytest.mark.slow
def test_serve_grpc_port_serves_both_apis_from_one_process(exported_lm_run):
    process = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve",
                                "--base", str(exported_lm_run), "--port", "0",
                                "--grpc-port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        rest_port = process.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0]
        line = process.stdout.readline()
        assert " over gRPC on 127.0.0.1:" in line, line
        grpc_port = line.split("127.0.0.1:")[1].split()[0]
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            code, answer = rpc(stub.Predict, predict_request("tiny", "score", text=[b"the cat"]))
        assert code == grpc.StatusCode.OK
        status, body = call(f"http://127.0.0.1:{rest_port}/v1/models/tiny:predict",
                            {"signature_name": "score", "inputs": {"text": ["the cat"]}})
        assert status == 200
        assert body["outputs"]["num_tokens"] == tf.make_ndarray(
            answer.outputs["num_tokens"]).tolist() == [3]
    finally:
        process.terminate()
        process.wait(timeout=30)
