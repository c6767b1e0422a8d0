"""Dataset registry: checksums, cache, mirror, and real downloads over loopback HTTP."""

import functools
import hashlib
import http.server
import threading
import zipfile

import pytest

from rnn_pipeline.config import DataConfig
from rnn_pipeline.data.corpora import load_corpus, strip_aozora
from rnn_pipeline.datasets import DATASETS, DatasetFile, fetch_file
from rnn_pipeline.errors import PipelineError


@pytest.fixture
def http_root(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "served"``."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_PIPELINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNN_PIPELINE_DATA_MIRROR", raising=False)
    return tmp_path / "cache"


def test_download_over_http_is_verified_cached_and_atomic(http_root, empty_cache, capsys):
    root, url = http_root
    payload = b"a real file\n" * 1000
    (root / "corpus.txt").write_bytes(payload)
    file = DatasetFile("demo/corpus.txt", f"{url}/corpus.txt", hashlib.sha256(payload).hexdigest())
    path = fetch_file(file)
    assert path == empty_cache / "demo" / "corpus.txt" and path.read_bytes() == payload
    assert "Downloading demo/corpus.txt: 100%" in capsys.readouterr().err
    (root / "corpus.txt").unlink()  # a second fetch uses the cache, not the network
    assert fetch_file(file) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["corpus.txt"]


def test_a_zip_member_is_downloaded_extracted_and_checked(http_root, empty_cache):
    root, url = http_root
    payload = "Go.\t行け。\tCC-BY 2.0 (France)\n".encode()
    with zipfile.ZipFile(root / "pairs.zip", "w") as zipped:
        zipped.writestr("jpn.txt", payload)
        zipped.writestr("_about.txt", b"about")
    file = DatasetFile("pairs/jpn.txt", f"{url}/pairs.zip", hashlib.sha256(payload).hexdigest(),
                       member="jpn.txt")
    path = fetch_file(file, progress=False)
    assert path.read_bytes() == payload and sorted(p.name for p in path.parent.iterdir()) == [
        "jpn.txt"]
    missing = DatasetFile("pairs/x.txt", f"{url}/pairs.zip", "0" * 64, member="x.txt")
    with pytest.raises(PipelineError, match=r"pairs.zip.*: the zip has no single entry 'x.txt' "
                                            r"\(entries: jpn.txt, _about.txt\)"):
        fetch_file(missing, progress=False)


def test_a_zip_folder_is_downloaded_extracted_checked_and_renamed_whole(http_root,
                                                                         empty_cache):
    from rnn_pipeline.datasets.fetch import folder_sha256

    root, url = http_root
    files = {"b.wav": b"RIFF b", "a.wav": b"RIFF a", "sub/c.wav": b"RIFF c"}
    with zipfile.ZipFile(root / "repo.zip", "w") as zipped:  # as GitHub's archives are
        zipped.writestr("repo-0123/README.md", b"readme")
        for name, data in files.items():
            zipped.writestr(f"repo-0123/recordings/{name}", data)
    lines = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  demo/recordings/{name}\n"
                    for name in sorted(files))
    file = DatasetFile("demo/recordings", f"{url}/repo.zip",
                       hashlib.sha256(lines.encode()).hexdigest(), member="recordings/")
    path = fetch_file(file, progress=False)
    assert path == empty_cache / "demo" / "recordings" and path.is_dir()
    assert {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*")
            if p.is_file()} == files
    assert folder_sha256(path, "demo/recordings") == file.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == ["recordings"]  # no leftovers
    (root / "repo.zip").unlink()
    assert fetch_file(file) == path  # from the cache, checked
    (path / "a.wav").write_bytes(b"changed")
    with pytest.raises(PipelineError, match=r"^demo/recordings: sha256 mismatch in .*cache"):
        fetch_file(file)


def test_checksum_mismatch_says_which_file_expected_and_found(http_root, empty_cache):
    root, url = http_root
    (root / "corpus.txt").write_bytes(b"tampered")
    file = DatasetFile("demo/corpus.txt", f"{url}/corpus.txt", "0" * 64)
    with pytest.raises(PipelineError) as info:
        fetch_file(file, progress=False)
    message = str(info.value)
    assert message.startswith(f"demo/corpus.txt: sha256 mismatch in {url}/corpus.txt: "
                              f"expected {'0' * 64}, found "
                              f"{hashlib.sha256(b'tampered').hexdigest()}")
    assert not (empty_cache / "demo").exists() or not any((empty_cache / "demo").iterdir())


def test_unreachable_file_explains_the_mirror(http_root, empty_cache):
    _, url = http_root
    file = DatasetFile("demo/missing.txt", f"{url}/missing.txt", "0" * 64)
    with pytest.raises(PipelineError, match=r"^demo/missing.txt: cannot download .*"
                                            r"set RNN_PIPELINE_DATA_MIRROR"):
        fetch_file(file, progress=False)


def test_a_dataset_that_cannot_be_had_skips_the_test_and_fails_it_under_require_data(
        empty_cache, monkeypatch):
    import urllib.error

    from tests_support import REQUIRE_DATA_ENV, dataset_paths

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("rnn_pipeline.datasets.fetch.urllib.request.urlopen", offline)
    monkeypatch.delenv(REQUIRE_DATA_ENV, raising=False)
    reason = (r"^needs dataset 'airline_passengers': not in the cache, not in a "
              r"RNN_PIPELINE_DATA_MIRROR folder, and the download failed \(offline\?\)")
    with pytest.raises(pytest.skip.Exception, match=reason):
        dataset_paths("airline_passengers")
    monkeypatch.setenv(REQUIRE_DATA_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=reason + r" \(RNN_PIPELINE_REQUIRE_DATA=1 "
                                                             r"turns this skip into a failure\)"):
        dataset_paths("airline_passengers")
    assert not empty_cache.exists() or not any(empty_cache.rglob("*.csv"))  # nothing half-written


def test_mirror_is_used_offline_and_checked(tmp_path, empty_cache, monkeypatch, data_mirror):
    monkeypatch.setenv("RNN_PIPELINE_DATA_MIRROR", str(data_mirror))
    file = DATASETS.get("ptb").files["valid"]
    assert fetch_file(file) == data_mirror / "ptb" / "ptb.valid.txt"
    bad_mirror = tmp_path / "mirror"
    (bad_mirror / "ptb").mkdir(parents=True)
    (bad_mirror / "ptb" / "ptb.valid.txt").write_text("not ptb")
    monkeypatch.setenv("RNN_PIPELINE_DATA_MIRROR", str(bad_mirror))
    with pytest.raises(PipelineError, match=r"^ptb/ptb.valid.txt: sha256 mismatch in .*mirror"):
        fetch_file(file)


def test_catalog_checksums_match_the_shared_data(data_mirror):
    sums = dict(line.split()[::-1] for line in (data_mirror / "SHA256SUMS").read_text()
                .splitlines() if line.strip())
    for name in DATASETS.names():
        spec = DATASETS.get(name)
        assert spec.licence and spec.citation, name
        for file in spec.files.values():
            if file.is_folder:  # the sha256 of its files' SHA256SUMS lines, in order
                lines = [f"{sha}  {path}\n" for path, sha in sums.items()
                         if path.startswith(f"{file.path}/")]
                found = hashlib.sha256("".join(sorted(lines, key=lambda line: line.split(
                    "  ", 1)[1].encode())).encode()).hexdigest()
                assert lines and found == file.sha256, file.path
            else:
                assert sums[file.path] == file.sha256, file.path
            assert file.url.startswith("https://"), file.url


def test_ptb_splits_and_size(dataset):
    dataset("ptb")
    corpus = load_corpus(DataConfig(corpus="ptb"))
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (42068, 3370, 3761)
    assert sum(len(line.split()) for line in corpus.test) == 78669


def test_aozora_is_read_from_shift_jis_and_stripped(dataset):
    dataset("aozora")
    corpus = load_corpus(DataConfig(corpus="aozora", max_lines=200))
    text = "".join(corpus.train + corpus.valid + corpus.test)
    assert "吾輩" in text
    for mark in ("《", "》", "［＃", "｜", "底本："):
        assert mark not in text
    assert len(corpus.train) == 200


def test_strip_aozora_markup():
    lines = ["title", "-------", "legend", "-------", "吾輩《わがはい》は｜猫［＃「猫」に傍点］",
             "※［＃「てへん＋劣」、第3水準1-84-77］字", "底本：something", "footer"]
    assert strip_aozora(lines) == ["吾輩は猫", "字"]


def test_max_lines_must_be_positive():
    with pytest.raises(PipelineError, match=r"^data.max_lines must be at least 1"):
        load_corpus(DataConfig(max_lines=0))
