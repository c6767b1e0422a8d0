"""``serve`` under load, on loopback: two requests near the word limit run while a small
request keeps being answered within a second, and oversized or malformed ones are refused;
no answer is a 5xx."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from rnn_pipeline.serving import make_server
from rnn_pipeline.serving.limits import ServeLimits

LIMITS = ServeLimits(max_request_bytes=256 * 1024, max_words=12_000, read_timeout=2.0,
                     max_connections=16)


def post(url, body=None, raw=None):
    """(status, JSON answer, seconds) of a POST."""
    data = raw if raw is not None else json.dumps(body).encode()
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as answer:
            return answer.status, json.loads(answer.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), time.monotonic() - started


@pytest.fixture(scope="module")
def url(exported_lm_run):
    httpd = make_server(exported_lm_run, port=0, limits=LIMITS)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/models/tiny:predict"
    httpd.shutdown()
    httpd.server_close()


def test_a_small_request_is_answered_within_a_second_while_two_large_ones_run(url):
    small = {"signature_name": "score", "instances": ["the cat sat on the mat"]}
    assert post(url, small)[0] == 200  # loaded and warm
    large = {"signature_name": "score", "instances": ["the cat sat on the mat " * 2000]}
    finished, refused = [], []

    def send_large():
        finished.append((*post(url, large), time.monotonic()))
        refused.append(post(url, raw=b"x" * (LIMITS.max_request_bytes + 1))[0])
        refused.append(post(url, {"signature_name": "score",
                                  "instances": ["a " * LIMITS.max_words, "b"]})[0])

    runners = [threading.Thread(target=send_large) for _ in range(2)]
    started = time.monotonic()
    for runner in runners:
        runner.start()
    small_answers = []  # (status, seconds, when answered), until both large ones are
    while len(finished) < 2:
        small_answers.append((*post(url, small)[::2], time.monotonic()))
    for runner in runners:
        runner.join()
    assert [status for status, _, _, _ in finished] == [200, 200]
    assert [answer["predictions"][0]["num_tokens"] for _, answer, _, _ in finished] == \
        [12_001] * 2
    # Side by side? Served one after the other, no small request would be answered
    # while both large ones run (TensorFlow's threads would all be theirs).
    first_done = min(when for *_, when in finished)
    during = [seconds for _, seconds, when in small_answers
              if started + 0.2 < when < first_done - 0.1]
    assert len(during) >= 2, f"{len(during)} small requests were answered while both large " \
                             f"ones ran ({first_done - started:.2f} s)"
    assert all(status == 200 for status, _, _ in small_answers)
    slowest = max(seconds for _, seconds, _ in small_answers)
    assert slowest < 1.0, f"a small request took {slowest:.2f} s while two large ones ran"
    assert sorted(refused) == [400, 400, 413, 413]  # and no 5xx anywhere
