"""The bad-input suite, data files: every case of issue 35's table about a series CSV or a
vectors file is one ``Error: ...`` line naming the file, key or value and the rule, exit 2,
with nothing written (no run folder, no forecast, no vectors file)."""

import struct

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from test_forecast_workflow import PIPELINE, monthly_rows
from tests_support import assert_one_line_error

ROWS = monthly_rows()  # header + 1949-01 .. 1960-12
# lookback 24 + horizon 12 in each split at valid 0.1 / test 0.2: round(n * 0.1) >= 12
NEEDED = ("must have at least 115 data rows for series.lookback = 24 and series.horizon = 12: "
          "a window of 36 rows in each of the train, valid and test splits "
          "(series.valid_fraction = 0.1, series.test_fraction = 0.2)")


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _write_rows(rows):
    return lambda path: path.write_text("\n".join(rows) + "\n")


# --- series.csv of a forecasting pipeline: `fit` refuses it before the run folder --------
@pytest.mark.parametrize("write, extra, expected", [
    (lambda path: path.mkdir(), "",
     "series.csv must be a CSV file, not a directory. Received: series.csv="),
    (_write_rows(ROWS[:1]), 'frequency = "MS"', f"series.csv {NEEDED}; it has 0. Received: "),
    (_write_rows(ROWS[:1]), "", f"series.csv {NEEDED}; it has 0. Received: "),
    (_write_rows(ROWS[:2]), "", f"series.csv {NEEDED}; it has 1. Received: "),
    (_write_rows(ROWS[:30]), "", f"series.csv {NEEDED}; it has 29. Received: "),
    (_write_rows(ROWS[:30] + ROWS[31:]), "",  # 1951-06 missing: line 31 is 1951-07
     "monthly.csv:31 breaks the step of the rows before it ('MS', lines 2-30): 1951-05-01 "
     "00:00:00 is followed by 1951-07-01 00:00:00, a gap or an irregular step, so "
     "series.frequency cannot be inferred; add the missing rows, or set series.frequency = "
     "'MS' with series.fill = 'ffill' or 'interpolate'. Received: "),
    (_write_rows(ROWS[:1] + ["1949-01,1", "1949-03,2", "1949-04,3"] + ROWS[5:]), "",
     "monthly.csv:4 must step regularly for series.frequency to be inferred; the first rows "
     "step 1949-01-01 00:00:00, 1949-03-01 00:00:00, 1949-04-01 00:00:00; set "
     "series.frequency"),
], ids=["directory", "header-only-frequency-set", "header-only", "one-row", "too-short",
        "month-missing", "irregular-start"])
def test_fit_refuses_the_series_csv_before_the_run_folder(tmp_path, write, extra, expected):
    csv = tmp_path / "monthly.csv"
    write(csv)
    pipeline = tmp_path / "air.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra=extra, target="Passengers"))
    run = tmp_path / "run"
    result = _run("fit", pipeline, "--run-dir", run)
    assert_one_line_error(result, expected, absent=[run])


# --- forecast --input: each problem names --input ---------------------------------------
@pytest.mark.parametrize("write, expected", [
    (lambda path: path.write_text(""),
     "--input must be a CSV file with a header line and data rows; it is empty"),
    (lambda path: path.mkdir(), "is a directory"),
    (_write_rows(["Month,Riders"] + [f"1950-{m:02d},{m}" for m in range(1, 13)]),
     "--input must have the run's columns 'Month', 'Passengers'; it lacks 'Passengers' (it "
     "has 'Month', 'Riders')"),
    (_write_rows(ROWS[:11]), "--input must have at least 24 data rows for the run's "
                             "series.lookback = 24; it has 10. Received: --input="),
    (_write_rows(ROWS[:1]), "--input must have at least 24 data rows for the run's "
                            "series.lookback = 24; it has 0. Received: --input="),
], ids=["empty", "directory", "missing-column", "under-lookback", "header-only"])
def test_forecast_input_names_the_option(fitted_forecast, tmp_path, write, expected):
    _, run = fitted_forecast
    path = tmp_path / "recent.csv"
    write(path)
    out = tmp_path / "forecast.csv"
    result = _run("forecast", run, "--input", path, "--out", out)
    assert_one_line_error(result, expected, absent=[out])
    assert "--input" in result.output


def test_forecast_csv_names_input_for_a_directory(fitted_forecast, tmp_path):
    """The directory case is refused by the option's type in the CLI; the library call
    names --input too (for `api.forecast_csv` callers)."""
    from rnn_pipeline import api
    from rnn_pipeline.errors import PipelineError

    _, run = fitted_forecast
    with pytest.raises(PipelineError, match=r"^--input must be a CSV file, not a directory"):
        api.forecast_csv(run, tmp_path, log=lambda *_: None)


# --- vectors files: NaN/Inf refused, naming the file, line and word ----------------------
def _glove(rows, header=False):
    def write(path):
        lines = [f"{len(rows)} 4"] if header else []
        path.write_text("\n".join(lines + [f"{w} {v}" for w, v in rows]) + "\n")
    return write


def _binary(rows):
    def write(path):
        data = f"{len(rows)} 4\n".encode()
        for word, values in rows:
            data += word.encode() + b" " + struct.pack("<4f", *values) + b"\n"
        path.write_bytes(data)
    return write


FINITE = "must hold finite numbers (no NaN or Inf, none beyond float32's range); "
VECTOR_CASES = [
    ("v.txt", _glove([("the", "1 2 3 4"), ("cat", "1 nan 3 4"), ("dog", "0 1 0 1")]),
     f"{FINITE}line 2 (word 'cat') has nan, and 1 vectors in all have such values"),
    ("v.txt", _glove([("the", "1 2 3 4"), ("cat", "1 2 3 4"), ("dog", "-inf 1 0 1")],
                     header=True),
     f"{FINITE}line 4 (word 'dog') has -inf"),
    ("v.txt", _glove([("the", "1 2 3 4"), ("cat", "1e40 2 3 4"), ("dog", "nan 1 0 1")]),
     f"{FINITE}line 2 (word 'cat') has inf, and 2 vectors in all"),
    ("v.bin", _binary([("the", [1, 2, 3, 4]), ("cat", [1, 2, np.nan, 4])]),
     f"{FINITE}vector 2 (word 'cat') has nan"),
]


@pytest.mark.parametrize("name, write, expected", VECTOR_CASES,
                         ids=["glove-nan", "word2vec-text-inf", "overflow", "binary-nan"])
def test_neighbors_refuses_a_vectors_file_with_nan_or_inf(tmp_path, name, write, expected):
    path = tmp_path / name
    write(path)
    result = _run("neighbors", path, "the")
    assert_one_line_error(result, f"RUN {expected}")
    assert result.output.strip().endswith(f". Received: RUN='{path}'")


@pytest.mark.parametrize("name, write, expected", VECTOR_CASES[:2],
                         ids=["glove-nan", "word2vec-text-inf"])
def test_fit_refuses_embeddings_with_nan_or_inf_before_the_run_folder(tmp_path, name, write,
                                                                      expected):
    vectors = tmp_path / name
    write(vectors)
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    run = tmp_path / "run"
    result = _run("fit", pipeline, "--run-dir", run, "--set", f"embeddings.file={vectors}")
    # Refused in `prepare`, where the vectors are read before the data: the only line,
    # before any training step or run folder.
    assert_one_line_error(result, f"embeddings.file {expected}", absent=[run])
    assert result.output.strip().endswith(f". Received: embeddings.file='{vectors}'")


# --- embed on a pipeline that is not a language model -----------------------------------
def test_embed_refuses_a_forecast_pipeline(tmp_path):
    out = tmp_path / "v.txt"
    result = _run("embed", "airline_passengers", "--out", out)
    assert_one_line_error(result, "PIPELINE must be a language-model pipeline (task "
                                  "'causal_lm': rnn-pipeline embed trains Word2Vec on its "
                                  "text), but its task is 'forecast'. Received: "
                                  "PIPELINE='airline_passengers'", absent=[out])
