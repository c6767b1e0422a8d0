"""``serve`` under load, on loopback: two requests near the word limit run while a small
request keeps being answered within a second, and oversized or malformed ones are refused;
no answer is a 5xx."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from rnn_pipeline.api import export_run
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
def url(fitted_lm_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("load") / "saved_models"
    export_run(fitted_lm_run, base, name="lm", log=lambda *_: None)
    httpd = make_server(base, port=0, limits=LIMITS)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/models/lm:predict"
    httpd.shutdown()
    httpd.server_close()


def test_a_small_request_is_answered_within_a_second_while_two_large_ones_run(url):
    small = {"signature_name": "score", "instances": ["the cat sat on the mat"]}
    assert post(url, small)[0] == 200  # loaded and warm
    large = {"signature_name": "score", "instances": ["the cat sat on the mat " * 2000]}
    finished = []
    runners = [threading.Thread(target=lambda: finished.append(post(url, large)))
               for _ in range(2)]
    for runner in runners:
        runner.start()
    time.sleep(0.3)  # both are running
    during, refused = [], []
    while not finished:  # small requests until the first large one is answered
        during.append(post(url, small))
        refused.append(post(url, raw=b"x" * (LIMITS.max_request_bytes + 1))[0])
        refused.append(post(url, {"signature_name": "score",
                                  "instances": ["a " * LIMITS.max_words, "b"]})[0])
        time.sleep(0.05)
    for runner in runners:
        runner.join()
    assert [status for status, _, _ in finished] == [200, 200]
    assert [answer["predictions"][0]["num_tokens"] for _, answer, _ in finished] == [12_001] * 2
    # Were they side by side? Served one after the other, no small request would be
    # answered before a large one is (the thread pool of TF was theirs alone).
    assert len(during) >= 3, f"only {len(during)} small requests were answered while the " \
                             f"two large ones ran"
    assert all(status == 200 for status, _, _ in during), during
    slowest = max(seconds for _, _, seconds in during)
    assert slowest < 1.0, f"a small request took {slowest:.2f} s while two large ones ran"
    assert set(refused) == {413, 400}
