"""The bad-input suite, ``serve``: a host, port or limit it cannot use is one ``Error: ...``
line naming that option, exit 2, and no server left running."""

import socket

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from tests_support import assert_one_line_error


@pytest.fixture(scope="module")
def busy_port():
    """A port of 127.0.0.1 that a socket of this test holds."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


def test_serve_refuses_a_base_without_exports(tmp_path):
    (tmp_path / "m" / "latest").mkdir(parents=True)  # no numeric version: TF Serving skips it
    result = CliRunner().invoke(cli, ["serve", "--base", str(tmp_path)])
    assert_one_line_error(result, "--base must hold at least one export (<name>/<version>/, "
                                  f"written by rnn-pipeline export); it has none. Received: "
                                  f"--base={tmp_path}")


@pytest.mark.parametrize("options, expected", [
    (["--host", "999.1.1.1"], "--host must be a name or address of this machine (Name or "
                              "service not known). Received: --host='999.1.1.1'"),
    (["--host", "no-such-host.invalid"], "--host must be a name or address of this machine"),
    (["--host", "192.0.2.1"], "--host must be an address of this machine (Cannot assign "
                              "requested address). Received: --host='192.0.2.1'"),
    (["--port", "BUSY"], "--port is in use on 127.0.0.1: pick another, or 0 for a free one "
                         "(Address already in use). Received: --port=BUSY"),
    (["--port", "70000"], "'--port': 70000 is not in the range 0<=x<=65535"),
    (["--max-request-bytes", "0"], "'--max-request-bytes': 0 is not in the range"),
    (["--max-instances", "0"], "'--max-instances': 0 is not in the range 1<=x<=1000000"),
    (["--max-words", "-5"], "'--max-words': -5 is not in the range 1<=x<=100000000"),
    (["--read-timeout", "0"], "'--read-timeout': 0.0 is not in the range 0.01<=x<=3600"),
    (["--read-timeout", "nan"], "'--read-timeout': nan is not a finite number"),
    (["--max-connections", "100000"], "'--max-connections': 100000 is not in the range"),
])
def test_serve_refuses_what_it_cannot_use_naming_the_option(tmp_path, busy_port, options,
                                                            expected):
    options = [str(busy_port) if value == "BUSY" else value for value in options]
    (tmp_path / "m" / "1").mkdir(parents=True)  # a version folder: the base is not empty
    result = CliRunner().invoke(cli, ["serve", "--base", str(tmp_path), *options])
    assert_one_line_error(result, expected.replace("BUSY", str(busy_port)))


def test_serve_refuses_a_latest_version_that_does_not_load(tmp_path):
    version = tmp_path / "tiny" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"xx")  # damaged: not a SavedModel proto
    result = CliRunner().invoke(cli, ["serve", "--base", str(tmp_path), "--port", "0"])
    assert_one_line_error(result, "--base must hold exports that load, as TF Serving loads the "
                                  "latest version of each model when it starts, but version 3 "
                                  "of model tiny could not be loaded (RuntimeError: MetaGraphDef")
    assert f"Received: --base='{tmp_path}'" in result.output
