"""The playground page of ``rnn-pipeline serve``, in a real headless Chromium driven by
Selenium, against the real server on loopback: what the page shows equals what the REST API
answers for the same request."""

import io
import json
import shutil
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from rnn_pipeline.serving import make_server

PROMPT = "東京 で 猫"  # words of the tiny corpus (conftest.TINY_TEXT): Japanese on the page
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
# Marks are read before any fixture is set up: no model is fitted for a test that skips.
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason=f"needs a Chromium browser and its chromedriver on PATH (apt-get install chromium "
           f"chromium-driver); found browser={CHROMIUM}, driver={CHROMEDRIVER}")
CSV_ROWS = [f"2024-01-{day:02d},{10 + day * 0.5:.1f},{5 - day * 0.25:.2f}" for day in
            range(1, 9)]  # 8 rows; the forecast export's lookback is 6


def _get(url, data=None):
    """(status, headers, body bytes) of a GET, or of a POST of the JSON ``data``."""
    request = urllib.request.Request(url, None if data is None else json.dumps(data).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def url(exported_lm_run, tmp_path_factory):
    """The server's address, over a base with the tiny LM ("tiny") and an untrained
    forecaster ("fc": lookback 6, horizon 3, 2 inputs, 1 target)."""
    from rnn_pipeline.export import export_saved_model
    from rnn_pipeline.tasks.forecast.model import Forecaster
    from rnn_pipeline.tasks.forecast.serving import ForecastServing

    base = tmp_path_factory.mktemp("playground_models")
    shutil.copytree(exported_lm_run / "tiny", base / "tiny")
    model = Forecaster(6, 3, 2, 1, mean=[12.0, 4.0], std=[2.0, 1.0], units=4)
    export_saved_model(lambda assets: ForecastServing(model), base, "fc")
    server = make_server(base, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through chromedriver, both found on PATH (Debian: the packages
    chromium and chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1100,1400", "--lang=ja"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    session.set_page_load_timeout(30)
    yield session
    session.quit()


def _open(browser, url, task):
    """Loads the page and returns the panel of ``task``, once the page has built it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    return browser.find_element(By.CSS_SELECTOR, f"section[data-task={task}]")


def _submit(browser, panel, **fields):
    """Types ``fields`` into the panel's form, submits it and waits for its answer;
    returns the panel's state, "done" or "error"."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    for name, value in fields.items():
        field = panel.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(
        lambda b: panel.get_attribute("data-state") in ("done", "error"))
    return panel.get_attribute("data-state")


def _script_errors(browser):
    """The console's errors, but for the 4xx answers the tests ask for."""
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]


def test_the_page_and_its_files_are_served_with_their_types_and_the_models_listed(url):
    status, headers, body = _get(url + "/")
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert b'<script src="/playground/playground.js" defer></script>' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for name, kind in (("playground.js", "text/javascript"), ("playground.css", "text/css")):
        status, headers, body = _get(f"{url}/playground/{name}")
        assert (status, headers["Content-Type"]) == (200, f"{kind}; charset=utf-8") and body
    for path in ("/playground/missing.js", "/playground/../server.py", "/playground/x.py"):
        status, headers, body = _get(url + path)
        assert (status, headers["Content-Type"]) == (404, "application/json"), path
        assert json.loads(body)["error"].startswith("The playground has no file at this path")
    status, _, body = _get(url + "/playground/models")
    models = {model["name"]: model for model in json.loads(body)}
    assert status == 200 and sorted(models) == ["fc", "tiny"]
    assert models["fc"]["version"] == 1
    assert models["fc"]["signatures"]["serving_default"]["inputs"] == {
        "history": {"dtype": "float", "shape": [-1, 6, 2]}}
    assert {"next_words", "score", "serving_default"} <= set(models["tiny"]["signatures"])
    assert models["tiny"]["signatures"]["score"]["inputs"] == {
        "text": {"dtype": "string", "shape": [-1]}}
    # The REST API is unchanged beside the page.
    status, _, body = _get(url + "/v1/models/fc")
    assert status == 200 and json.loads(body)["model_version_status"][0]["version"] == "1"


def _generation(url, max_tokens):
    """The REST request the page sends for a greedy generation: the `generate` signature
    when the export has one, else serving_default, with the inputs that signature takes."""
    signatures = json.loads(_get(url + "/v1/models/tiny/metadata")[2])[
        "metadata"]["signature_def"]["signature_def"]
    name = "generate" if "generate" in signatures else "serving_default"
    values = {"prompt": PROMPT, "max_tokens": max_tokens, "temperature": 0.0, "top_k": 0,
              "seed": 0}
    instance = {key: values[key] for key in signatures[name]["inputs"]}
    return _get(url + "/v1/models/tiny/versions/1:predict",
                {"signature_name": name, "instances": [instance]})


@needs_browser
def test_greedy_generation_on_the_page_equals_the_rest_api_and_errors_show_as_text(browser,
                                                                                 url):
    from selenium.webdriver.common.by import By

    panel = _open(browser, url, "generate")
    assert panel.get_attribute("data-model") == "tiny"
    assert _submit(browser, panel, prompt=PROMPT, sampler="greedy", max_tokens="6") == "done"
    shown = panel.find_element(By.CSS_SELECTOR, "pre.result").text
    status, _, body = _generation(url, 6)
    answer = json.loads(body)["predictions"][0]
    expected = answer["text"] if isinstance(answer, dict) else answer
    assert status == 200 and shown.startswith(PROMPT) and len(shown) > len(PROMPT)
    assert shown == expected.strip()  # .text drops the trailing line break an <eos> makes
    assert not panel.find_element(By.NAME, "temperature").is_enabled()  # greedy: unused

    if panel.find_element(By.NAME, "max_tokens").is_enabled():  # the server refuses it
        assert _submit(browser, panel, max_tokens="100000") == "error"
        refused = json.loads(_generation(url, 100000)[2])["error"]
        assert panel.find_element(By.CSS_SELECTOR, ".error").text == refused
    assert _submit(browser, panel, sampler="top_k", temperature="") == "error"
    assert panel.find_element(By.CSS_SELECTOR, ".error").text == \
        'temperature must be a number. Received: temperature=""'
    assert _script_errors(browser) == []


@needs_browser
def test_a_pasted_csv_is_forecast_and_plotted_and_the_screenshot_is_a_real_image(browser, url,
                                                                              tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    panel = _open(browser, url, "forecast")
    assert _submit(browser, panel, csv="date,a,b\n" + "\n".join(CSV_ROWS[:3])) == "error"
    assert panel.find_element(By.CSS_SELECTOR, ".error").text == \
        "The CSV must have at least lookback=6 rows of values. Received: 3 rows"

    assert _submit(browser, panel, csv="date,a,b\n" + "\n".join(CSV_ROWS)) == "done"
    plot = panel.find_element(By.CSS_SELECTOR, "svg.forecast-plot")
    assert plot.is_displayed() and plot.size["width"] > 200 and plot.size["height"] > 100
    assert len(plot.find_elements(By.CSS_SELECTOR, "path.series-forecast")) == 1
    cells = panel.find_elements(By.CSS_SELECTOR, "table.forecast-values td")
    window = [[float(v) for v in row.split(",")[1:]] for row in CSV_ROWS[-6:]]
    status, _, body = _get(url + "/v1/models/fc:predict", {"instances": [{"history": window}]})
    assert status == 200
    np.testing.assert_allclose([float(cell.text) for cell in cells],
                               np.ravel(json.loads(body)["predictions"][0]), rtol=1e-5)

    png = browser.get_screenshot_as_png()
    (tmp_path / "playground.png").write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # text, a plot: not one colour
    assert _script_errors(browser) == []
