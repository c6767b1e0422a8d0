"""Getting a dataset file: user cache, offline mirror, or download (atomic, checksummed).

Resolution order for a file:

1. the cache, ``$RNN_PIPELINE_CACHE`` or ``$XDG_CACHE_HOME/rnn-pipeline`` (default
   ``~/.cache/rnn-pipeline``), when its sha256 is right;
2. the mirror folder ``$RNN_PIPELINE_DATA_MIRROR``, laid out like ``shared/data``
   (used in place, after its sha256 is checked);
3. a download from the file's URL into the cache: written under a temporary name in the
   same folder, checked, then renamed, so no half-written file ever has the real name.
"""

import hashlib
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

from rnn_pipeline.errors import PipelineError

MIRROR_ENV = "RNN_PIPELINE_DATA_MIRROR"
CACHE_ENV = "RNN_PIPELINE_CACHE"
_CHUNK = 1 << 20


def cache_root():
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnn-pipeline"


def mirror_root():
    value = os.environ.get(MIRROR_ENV)
    return Path(value) if value else None


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(file, path, found):
    return PipelineError(
        f"{file.path}: sha256 mismatch in {path}: expected {file.sha256}, found {found}. "
        f"Delete that file to download it again, or set {MIRROR_ENV} to a folder with the "
        f"original. Received: file={str(path)!r}")


def _download(file, target, progress=True):
    partial = target.with_name(f".{target.name}.part-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(file.url, timeout=60) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, shown = 0, -1
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                percent = int(100 * done / total) if total else -1
                if progress and percent != shown:
                    shown = percent
                    size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else \
                        f"{done / 1e6:.1f} MB"
                    print(f"\rDownloading {file.path}: {max(percent, 0):3d}% ({size})",
                          end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        if file.member:
            _extract(partial, file)
        found = sha256_of(partial)
        if found != file.sha256:
            raise _mismatch(file, file.url, found)
        os.replace(partial, target)  # atomic within one folder
    except OSError as exc:
        raise PipelineError(
            f"{file.path}: cannot download {file.url} ({exc}). Without network, set "
            f"{MIRROR_ENV} to a folder laid out like shared/data, or put the file at "
            f"{target}. Received: url={file.url!r}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def _extract(archive, file):
    """Replaces the downloaded zip ``archive`` by its entry named ``file.member``."""
    member = file.member
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n == member or n.endswith(f"/{member}")]
        if len(names) != 1:
            raise PipelineError(f"{file.url}: the zip has no single entry {member!r} "
                                f"(entries: {', '.join(zipped.namelist()[:10])}). "
                                f"Received: member={member!r}")
        data = zipped.read(names[0])
    archive.write_bytes(data)


def fetch_file(file, progress=True):
    """Returns a local, checksum-verified path of a `DatasetFile`.

    Args:
        file: the `DatasetFile` (mirror-relative path, URL, sha256).
        progress: show a download progress line on stderr.

    Raises:
        PipelineError: naming the file, expected and found checksums, and the fix.
    """
    cached = cache_root() / file.path
    if cached.is_file():
        found = sha256_of(cached)
        if found != file.sha256:
            raise _mismatch(file, cached, found)
        return cached
    mirror = mirror_root()
    if mirror is not None and (mirror / file.path).is_file():
        found = sha256_of(mirror / file.path)
        if found != file.sha256:
            raise _mismatch(file, mirror / file.path, found)
        return mirror / file.path
    return _download(file, cached, progress=progress)
