"""Download the real JSC file: CERNBox (default, its test rows match MASE's) or OpenML 42468.

The file grows in ``NAME.part`` next to its final place; an interrupted download resumes with an HTTP
``Range`` request, and only a complete, verified file is renamed into place (after fsync). OpenML's
md5 (published in its dataset description) is always checked; for CERNBox an expected sha256 may be
given. The sha256 and md5 of what was downloaded are recorded in ``NAME.download.json``.

The URLs can be replaced (``MACHOP_JSC_CERNBOX_URL``, ``MACHOP_OPENML_API_URL`` or parameters) so the
tests run against a server on 127.0.0.1 and never contact the real hosts.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from chop.dataset.cache import ensure_writable, file_sha256, jsc_cache_dir
from chop.dataset.locate import CERNBOX_FILENAME, OPENML_FILENAME, search_places
from chop.errors import DataError
from chop.tools.atomic import atomic_write_text

CERNBOX_URL = "https://cernbox.cern.ch/index.php/s/jvFd5MoWhGs1l5v/download"
OPENML_API_URL = "https://www.openml.org/api/v1/json/data/42468"
CERNBOX_URL_ENV = "MACHOP_JSC_CERNBOX_URL"
OPENML_API_URL_ENV = "MACHOP_OPENML_API_URL"
SOURCES: tuple[str, ...] = ("cernbox", "openml")
TIMEOUT_S = 30.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Downloaded:
    """A JSC source file on disk and what is known about where it came from."""

    path: str
    source: str
    url: str
    sha256: str
    md5: str
    bytes: int
    reused: bool


def _offline(url: str, reason: object) -> DataError:
    return DataError(
        f"cannot download the JSC dataset from {url} ({reason}); put the file at {search_places()}, "
        "or use the bundled offline dataset 'jsc-pythia'"
    )


def _open(request: urllib.request.Request):
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError) as error:
        raise _offline(request.full_url, getattr(error, "reason", error)) from None


def _openml_description(api_url: str) -> tuple[str, str]:
    """(file URL, md5) from OpenML's JSON dataset description."""
    try:
        with _open(urllib.request.Request(api_url)) as response:
            description = json.load(response)["data_set_description"]
        return str(description["url"]), str(description["md5_checksum"]).lower()
    except urllib.error.HTTPError as error:
        raise DataError(f"OpenML description {api_url} answered HTTP {error.code} {error.reason}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"OpenML description {api_url} lacks 'data_set_description' url/md5_checksum ({error})") from None


def _hashes(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def _fetch(url: str, part: Path, progress: bool, restarted: bool = False) -> None:
    """Append the rest of ``url`` to ``part`` (resuming from its size when the server allows it)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = _open(request)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have and not restarted:  # stale .part larger than the file: start over
            part.unlink()
            return _fetch(url, part, progress, restarted=True)
        raise DataError(f"download of {url} failed: HTTP {error.code} {error.reason}") from None
    with response:
        resumed = response.status == 206
        if resumed and _range_start(response.headers.get("Content-Range")) != have:
            if restarted:
                raise DataError(f"download of {url} failed: the server answered a different byte range than asked")
            part.unlink()
            return _fetch(url, part, progress, restarted=True)
        if not resumed:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as handle, _progress(progress, part.name, total, have) as advance:
            try:
                while block := response.read(_CHUNK):
                    handle.write(block)
                    advance(len(block))
            except OSError as error:
                raise DataError(f"download of {url} broke off after {handle.tell()} bytes ({error}); "
                                "run the same command again to resume") from None
            handle.flush()
            os.fsync(handle.fileno())
        if total is not None and part.stat().st_size != total:
            raise DataError(f"download of {url} stopped at {part.stat().st_size} of {total} bytes; run again to resume")


def _range_start(content_range: str | None) -> int | None:
    match = re.match(r"bytes (\d+)-", content_range or "")
    return int(match.group(1)) if match else None


@contextmanager
def _progress(enabled: bool, label: str, total: int | None, done: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (or nothing), yielding ``advance(bytes)``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total, completed=done)
        yield lambda n: bar.advance(task, n)


def download_jsc(
    source: str = "cernbox",
    directory: str | Path | None = None,
    sha256: str | None = None,
    progress: bool = True,
    url: str | None = None,
) -> Downloaded:
    """Fetch the JSC file into ``directory`` (default: the cache's ``jsc/``) and verify it.

    ``url`` replaces the CERNBox file URL or the OpenML description URL (for tests and mirrors).
    An existing complete file is reused (and checked against ``sha256`` when given).
    """
    if source not in SOURCES:
        raise DataError(f"unknown download source '{source}'; known: {', '.join(SOURCES)}")
    if directory is None:
        target_dir = ensure_writable(jsc_cache_dir())
    else:
        target_dir = ensure_writable(Path(directory).expanduser(), hint="choose another --data-path directory")
    expected_sha = sha256.lower() if sha256 else None
    if expected_sha is not None and not re.fullmatch(r"[0-9a-f]{64}", expected_sha):
        raise DataError(f"--sha256 expects 64 hex digits, got '{sha256}'")
    if source == "cernbox":
        file_url = url or os.environ.get(CERNBOX_URL_ENV) or CERNBOX_URL
        expected_md5, target = None, target_dir / CERNBOX_FILENAME
    else:
        api_url = url or os.environ.get(OPENML_API_URL_ENV) or OPENML_API_URL
        target = target_dir / OPENML_FILENAME
        file_url, expected_md5 = (None, None) if target.is_file() else _openml_description(api_url)
    if target.is_file():
        digest = file_sha256(target)
        if expected_sha is not None and digest != expected_sha:
            raise DataError(f"existing {target} has sha256 {digest}, expected {expected_sha}; delete it to download again")
        return Downloaded(str(target), source, "", digest, "", target.stat().st_size, reused=True)
    part = target.with_name(target.name + ".part")
    _fetch(file_url, part, progress)
    digest, md5 = _hashes(part)
    for kind, expected, actual in (("md5", expected_md5, md5), ("sha256", expected_sha, digest)):
        if expected is not None and actual != expected:
            part.unlink()
            raise DataError(f"downloaded {target.name} has {kind} {actual}, expected {expected}; the partial file was removed")
    os.replace(part, target)
    result = Downloaded(str(target), source, file_url, digest, md5, target.stat().st_size, reused=False)
    record = {**asdict(result), "downloaded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    record.pop("reused")
    atomic_write_text(target.with_name(target.name + ".download.json"), json.dumps(record, indent=2) + "\n")
    return result
