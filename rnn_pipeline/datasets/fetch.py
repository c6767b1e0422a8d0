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
import shutil
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


def folder_sha256(folder, relative):
    """sha256 of a folder's ``sha256sum`` lines ``<sha256>  <relative>/<name>``, sorted by
    path in C-locale (byte) order: the checksum of a folder `DatasetFile`."""
    lines = sorted(((f"{relative}/{p.relative_to(folder).as_posix()}", sha256_of(p))
                    for p in Path(folder).rglob("*") if p.is_file()),
                   key=lambda line: line[0].encode())
    return hashlib.sha256("".join(f"{sha}  {name}\n" for name, sha in lines)
                          .encode()).hexdigest()


def _checksum(file, path):
    return folder_sha256(path, file.path) if file.is_folder else sha256_of(path)


def _exists(file, path):
    return path.is_dir() if file.is_folder else path.is_file()


def _mismatch(file, path, found):
    return PipelineError(
        f"{file.path}: sha256 mismatch in {path}: expected {file.sha256}, found {found}. "
        f"Delete that file to download it again, or set {MIRROR_ENV} to a folder with the "
        f"original. Received: file={str(path)!r}")


def _download(file, target, progress=True):
    partial = target.with_name(f".{target.name}.part-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = partial.with_name(partial.name + ".zip") if file.is_folder else partial
    try:
        with urllib.request.urlopen(file.url, timeout=60) as response, open(archive, "wb") as out:
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
        if file.is_folder:
            _extract_folder(archive, partial, file)
        elif file.member:
            _extract(partial, file)
        found = _checksum(file, partial)
        if found != file.sha256:
            raise _mismatch(file, file.url, found)
        os.replace(partial, target)  # atomic within one folder (a file or a new folder)
    except OSError as exc:
        raise PipelineError(
            f"{file.path}: cannot download {file.url} ({exc}). Without network, set "
            f"{MIRROR_ENV} to a folder laid out like shared/data, or put the file at "
            f"{target}. Received: url={file.url!r}") from None
    finally:
        if partial.is_dir():
            shutil.rmtree(partial)
        partial.unlink(missing_ok=True)
        archive.unlink(missing_ok=True)
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


def _extract_folder(archive, folder, file):
    """Extracts the files of zip ``archive`` under its folder ``file.member`` into
    ``folder`` (the zip's other entries are left out)."""
    member = f"/{file.member}"
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if not n.endswith("/") and member in f"/{n}"]
        if not names:
            raise PipelineError(f"{file.url}: the zip has no folder {file.member!r} "
                                f"(entries: {', '.join(zipped.namelist()[:10])}). "
                                f"Received: member={file.member!r}")
        for name in names:
            inside = f"/{name}".split(member, 1)[1]
            if ".." in Path(inside).parts:
                continue
            out = folder / inside
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(zipped.read(name))


def fetch_file(file, progress=True):
    """Returns a local, checksum-verified path of a `DatasetFile` (a folder's path where
    it is a folder, `DatasetFile.is_folder`).

    Args:
        file: the `DatasetFile` (mirror-relative path, URL, sha256).
        progress: show a download progress line on stderr.

    Raises:
        PipelineError: naming the file, expected and found checksums, and the fix.
    """
    cached = cache_root() / file.path
    if _exists(file, cached):
        found = _checksum(file, cached)
        if found != file.sha256:
            raise _mismatch(file, cached, found)
        return cached
    mirror = mirror_root()
    if mirror is not None and _exists(file, mirror / file.path):
        found = _checksum(file, mirror / file.path)
        if found != file.sha256:
            raise _mismatch(file, mirror / file.path, found)
        return mirror / file.path
    return _download(file, cached, progress=progress)
