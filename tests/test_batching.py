"""Server-side batching (TF Serving's --enable_batching): the batching parameters file,
and concurrent requests to a real export merged into fewer Session runs."""

import collections
import json
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from rnn_pipeline.serving.batching_parameters import (EXAMPLE, BatchingParameters,
                                                      BatchingParametersError,
                                                      parse_batching_parameters,
                                                      read_batching_parameters, write_example)

PROMPTS = ["the", "the cat", "a dog sat on", "東京 で", "", "the mat was red", "a", "the log"]


def test_a_tf_serving_batching_file_is_read_with_comments_lists_and_defaults(tmp_path):
    path = tmp_path / "batching.txt"
    path.write_text("# TF Serving's format\nmax_batch_size { value: 16 }\n"
                    "batch_timeout_micros: {\n  value: 500\n}\n"
                    "max_enqueued_batches < value: 3 >\nallowed_batch_sizes: [4, 8]\n"
                    "allowed_batch_sizes: 16\npad_variable_length_inputs: true\n"
                    'thread_pool_name { value: "mine" }\n')
    assert read_batching_parameters(path) == BatchingParameters(
        max_batch_size=16, batch_timeout_micros=500, max_enqueued_batches=3,
        num_batch_threads=BatchingParameters().num_batch_threads, thread_pool_name="mine",
        allowed_batch_sizes=(4, 8, 16), pad_variable_length_inputs=True)
    assert parse_batching_parameters("") == BatchingParameters()  # TF Serving's defaults
    assert BatchingParameters().max_batch_size == 1000


@pytest.mark.parametrize("text, message", [
    ("max_batch_size { value: 8 }\n\nmax_batch { value: 8 }\n",
     "f.txt, line 3: field must be one of BatchingParameters' fields (max_batch_size, "
     "batch_timeout_micros, max_enqueued_batches, num_batch_threads, thread_pool_name, "
     "allowed_batch_sizes, pad_variable_length_inputs). Received: field=max_batch"),
    ("max_batch_size { value: 8 }\nallowed_batch_sizes: [4, 2, 8]\n",
     "f.txt, line 2: allowed_batch_sizes must be positive and increasing (TF Serving's rule). "
     "Received: allowed_batch_sizes=[4, 2, 8]"),
    ("max_batch_size { value: 8 }\nallowed_batch_sizes: 2\nallowed_batch_sizes: 4\n",
     "f.txt, line 2: allowed_batch_sizes must end with max_batch_size (8; TF Serving's rule). "
     "Received: allowed_batch_sizes=[2, 4]"),
    ("max_batch_size: 8\n", "f.txt, line 1: max_batch_size must be followed by '{ value: ... }'. "
                            "Received: max_batch_size=8"),
    ("num_batch_threads { value: 0 }", "f.txt, line 1: num_batch_threads must be at least 1. "
                                       "Received: num_batch_threads=0"),
    ("pad_variable_length_inputs: yes", "f.txt, line 1: pad_variable_length_inputs must be "
                                        "true or false. Received: pad_variable_length_inputs=yes"),
])
def test_a_wrong_batching_file_is_one_line_naming_the_file_line_and_field(text, message):
    with pytest.raises(BatchingParametersError) as caught:
        parse_batching_parameters(text, "f.txt")
    assert str(caught.value) == message


def test_inputs_of_different_lengths_are_padded_when_merged():
    from rnn_pipeline.serving.batching import _merge

    numbers = _merge([np.array([[1, 2, 3]]), np.array([[4], [5]])], padded_rows=1)
    assert numbers.tolist() == [[1, 2, 3], [4, 0, 0], [5, 0, 0], [5, 0, 0]]
    strings = _merge([np.array([[b"a"]], object), np.array([[b"b", b"c"]], object)], 0)
    assert strings.tolist() == [[b"a", b""], [b"b", b"c"]]


@pytest.fixture(scope="module")
def repositories(exported_lm_run):
    """(plain, batched): repositories over the exported tiny LM, without batching and with
    a batcher of one thread, whose parameters each test sets (`configure`)."""
    from rnn_pipeline.serving.repository import ModelRepository

    batched = ModelRepository(exported_lm_run, threads=40,
                              batching=BatchingParameters(num_batch_threads=1))
    yield ModelRepository(exported_lm_run, threads=40), batched
    batched.batcher.close()


def configure(repository, **parameters):
    """The batcher's parameters from now on (one thread; no batch is waiting between
    tests), so that the export is loaded once for every test."""
    assert repository.batcher.waiting_rows() == 0
    repository.batcher.parameters = BatchingParameters(num_batch_threads=1, **parameters)
    return repository


def signature(repository, name):
    return repository.servable("tiny", repository.versions("tiny")[-1]).signature(name)


def at_once(call, requests):
    """``call(request)`` of each request in threads of their own, started together;
    [(answer, error)] in the requests' order."""
    answers = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def one(i):
        start.wait()
        try:
            answers[i] = (call(requests[i]), None)
        except Exception as exc:  # noqa: BLE001  (the test checks it)
            answers[i] = (None, exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def assert_same(got, expected):
    assert sorted(got) == sorted(expected)
    for name in expected:
        if expected[name].dtype.kind in "fc":
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6)
        else:
            assert got[name].tolist() == expected[name].tolist()


def test_concurrent_requests_run_as_fewer_session_calls_with_the_same_answers(repositories):
    plain, batched = repositories
    configure(batched, max_batch_size=8, batch_timeout_micros=2_000_000)
    requests = [{"prompt": np.array([p.encode()], object)} for p in PROMPTS[:6]]
    requests.append({"prompt": np.array([b"the cat", b"a"], object)})  # 2 rows: 8 in all
    expected = [signature(plain, "next_words").run(request) for request in requests]
    words = signature(batched, "next_words")
    before = batched.batcher.session_runs
    answers = at_once(words, requests)
    for (answer, error), want in zip(answers, expected):
        assert error is None
        assert_same(answer, want)
    runs = batched.batcher.session_runs - before
    assert 1 <= runs < len(requests)  # 7 requests, 8 rows: merged (1 run when all meet)


def test_a_batch_is_padded_up_to_an_allowed_size_and_the_padding_dropped(repositories):
    plain, batched = repositories
    configure(batched, max_batch_size=8, batch_timeout_micros=1_500_000,
              allowed_batch_sizes=(4, 8))
    requests = [{"text": np.array([p.encode()], object)} for p in PROMPTS[:3]]
    expected = [signature(plain, "score").run(request) for request in requests]
    score = signature(batched, "score")  # loaded first
    before = collections.Counter(batched.batcher.runs_by_size)
    answers = at_once(score, requests)
    for (answer, error), want in zip(answers, expected):
        assert error is None and len(answer["num_tokens"]) == 1
        assert_same(answer, want)
    ran = collections.Counter(batched.batcher.runs_by_size) - before
    assert set(ran) <= {4, 8} and sum(ran.values()) < len(requests)  # padded, merged


def _generation_signature(repository):
    """The name of the signature whose every generation option is an input."""
    servable = repository.servable("tiny", repository.versions("tiny")[-1])
    (name,) = [name for name, sig in servable.signatures.items() if "max_tokens" in sig.inputs]
    return name


def test_an_invalid_request_merged_with_valid_ones_fails_alone(repositories):
    from rnn_pipeline.serving.errors import RequestError

    plain, batched = repositories
    configure(batched, max_batch_size=4, batch_timeout_micros=2_000_000)
    name = _generation_signature(plain)

    def request(prompt, max_tokens):
        return {"prompt": np.array([prompt.encode()], object),
                "max_tokens": np.array([max_tokens], np.int32),
                "temperature": np.array([0.0], np.float32),
                "top_k": np.array([0], np.int32), "seed": np.array([0], np.int32)}

    requests = [request("the", 3), request("a dog", 2), request("the cat", 10**6),
                request("the mat", 3)]
    generate = signature(batched, name)  # loaded first
    before = collections.Counter(batched.batcher.runs_by_size)
    answers = at_once(generate, requests)
    ran = collections.Counter(batched.batcher.runs_by_size) - before
    assert ran == {4: 1, 1: 4}  # the merged run failed; each request ran again, alone
    answer, error = answers[2]
    assert isinstance(error, RequestError) and answer is None
    assert "max_tokens must be in [0, " in str(error) and "Received: max_tokens=1000000" in \
        str(error)
    for i in (0, 1, 3):
        assert answers[i][1] is None
        assert_same(answers[i][0], signature(plain, name).run(requests[i]))


def test_a_full_queue_is_refused_with_503_in_tf_servings_words(repositories):
    from rnn_pipeline.serving.batching import QueueFull

    plain, batched = repositories
    configure(batched, max_batch_size=2, batch_timeout_micros=60_000_000,
              max_enqueued_batches=1)
    words = signature(batched, "next_words")
    one, results = {"prompt": np.array([b"the"], object)}, []
    first = threading.Thread(target=lambda: results.append(words(one)))
    first.start()
    deadline = time.monotonic() + 30
    while batched.batcher.waiting_rows() < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first request's batch (1 of 2 rows) waits for another
    with pytest.raises(QueueFull) as caught:
        words({"prompt": np.array([b"a", b"the cat"], object)})  # 2 rows: a second batch
    assert caught.value.status == 503
    assert str(caught.value).startswith("The batch scheduling queue to which this task was "
                                        "submitted is full")
    assert_same(words(one), signature(plain, "next_words").run(one))  # fills the batch
    first.join(30)
    assert len(results) == 1


@pytest.mark.slow  # 11 s on 2 cores: the slow suite runs it
def test_serve_with_batching_parameters_answers_over_http(exported_lm_run, tmp_path,
                                                          repositories):
    from click.testing import CliRunner
    from rnn_pipeline.cli.main import cli

    bad = tmp_path / "bad.txt"
    bad.write_text("max_batch_size { value: 4 }\nallowed_batch_sizes: [2, 3]\n")
    refused = CliRunner().invoke(cli, ["serve", "--base", str(exported_lm_run),
                                       "--batching-parameters", str(bad)])
    assert refused.exit_code == 2 and f"{bad}, line 2: allowed_batch_sizes must end" in \
        refused.output and len(refused.output.strip().splitlines()) == 1

    good = tmp_path / "batching.txt"
    good.write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 200000 }\n")
    server = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve", "--base",
                               str(exported_lm_run), "--port", "0", "--batching-parameters",
                               str(good)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0])

        def post(prompt):
            body = json.dumps({"signature_name": "next_words", "instances": [prompt]}).encode()
            with urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{port}/v1/models/tiny:predict", data=body), timeout=60) \
                    as response:
                return json.loads(response.read())["predictions"][0]

        answers = at_once(post, PROMPTS)
    finally:
        server.terminate()
        server.wait(30)
    plain = signature(repositories[0], "next_words")
    for prompt, (answer, error) in zip(PROMPTS, answers):
        want = plain.run({"prompt": np.array([prompt.encode()], object)})
        assert error is None
        assert answer["words"] == [w.decode() for w in want["words"][0]]
        np.testing.assert_allclose(answer["probabilities"], want["probabilities"][0],
                                   rtol=1e-5, atol=1e-6)


def test_export_writes_an_example_that_parses_and_keeps_a_users_file(exported_lm_run,
                                                                     tmp_path):
    example = exported_lm_run / "batching_parameters.txt"
    assert example.read_text(encoding="utf-8") == EXAMPLE
    assert "--enable_batching --batching_parameters_file" in EXAMPLE
    assert "rnn-pipeline serve --base BASE --batching-parameters" in EXAMPLE
    parameters = read_batching_parameters(example)
    assert (parameters.max_batch_size, parameters.batch_timeout_micros) == (32, 1000)

    mine = tmp_path / "batching_parameters.txt"
    mine.write_text("max_batch_size { value: 4 }\n")
    assert write_example(tmp_path) == mine
    assert mine.read_text() == "max_batch_size { value: 4 }\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batching_parameters.txt"]
