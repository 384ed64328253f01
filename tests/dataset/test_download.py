"""Downloads against a server on 127.0.0.1 (never the real hosts): resume, checksums, offline."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from jsc_files import closed_port, make_rows, write_h5

from chop.cli import main
from chop.dataset.download import download_jsc
from chop.dataset.locate import CERNBOX_FILENAME, OPENML_FILENAME
from chop.errors import DataError


class FileServer:
    """Serves ``files`` (path -> bytes) with HTTP Range support and records request headers."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.honour_range = True
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range") and server.honour_range:
                    start = int(self.headers["Range"].removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                self.wfile.write(body[start:])

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def payload(tmp_path: Path) -> bytes:
    return write_h5(tmp_path / "source.z", make_rows(60, seed=5)).read_bytes()


@pytest.fixture
def server(payload: bytes) -> Iterator[FileServer]:
    openml = {"data_set_description": {"id": "42468", "url": "", "md5_checksum": hashlib.md5(payload).hexdigest()}}
    files = {"/cernbox/download": payload}
    running = FileServer(files)
    openml["data_set_description"]["url"] = f"{running.url}/openml/file.arff"
    files["/openml/file.arff"] = payload
    files["/openml/api"] = json.dumps(openml).encode()
    files["/openml/api-bad-md5"] = json.dumps(
        {"data_set_description": {**openml["data_set_description"], "md5_checksum": "0" * 32}}
    ).encode()
    yield running
    running.close()


def test_cernbox_download_verifies_sha256_and_records_hashes(server: FileServer, payload: bytes, tmp_path: Path) -> None:
    sha = hashlib.sha256(payload).hexdigest()
    result = download_jsc("cernbox", tmp_path / "data", sha256=sha, progress=True, url=f"{server.url}/cernbox/download")
    target = tmp_path / "data" / CERNBOX_FILENAME
    assert Path(result.path) == target and target.read_bytes() == payload
    assert not (tmp_path / "data" / (CERNBOX_FILENAME + ".part")).exists()
    record = json.loads((tmp_path / "data" / (CERNBOX_FILENAME + ".download.json")).read_text())
    assert record["sha256"] == sha and record["md5"] == hashlib.md5(payload).hexdigest() and record["bytes"] == len(payload)


def test_interrupted_download_resumes_with_a_range_request(server: FileServer, payload: bytes, tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    half = len(payload) // 2
    (directory / (CERNBOX_FILENAME + ".part")).write_bytes(payload[:half])
    download_jsc("cernbox", directory, progress=False, url=f"{server.url}/cernbox/download")
    assert (directory / CERNBOX_FILENAME).read_bytes() == payload
    assert server.requests == [("/cernbox/download", f"bytes={half}-")]


def test_server_ignoring_range_restarts_the_file_from_scratch(server: FileServer, payload: bytes, tmp_path: Path) -> None:
    server.honour_range = False
    (tmp_path / (CERNBOX_FILENAME + ".part")).write_bytes(b"stale bytes")
    download_jsc("cernbox", tmp_path, progress=False, url=f"{server.url}/cernbox/download")
    assert (tmp_path / CERNBOX_FILENAME).read_bytes() == payload


def test_bad_sha256_removes_the_partial_file_and_names_both_hashes(server: FileServer, payload: bytes, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"sha256 {hashlib.sha256(payload).hexdigest()}, expected {'a' * 64}"):
        download_jsc("cernbox", tmp_path / "d", sha256="a" * 64, progress=False, url=f"{server.url}/cernbox/download")
    assert list((tmp_path / "d").iterdir()) == []


def test_openml_download_checks_the_published_md5(server: FileServer, payload: bytes, tmp_path: Path) -> None:
    result = download_jsc("openml", tmp_path / "ok", progress=False, url=f"{server.url}/openml/api")
    assert (tmp_path / "ok" / OPENML_FILENAME).read_bytes() == payload
    assert result.md5 == hashlib.md5(payload).hexdigest()
    with pytest.raises(DataError, match=r"md5 .*expected 0{32}"):
        download_jsc("openml", tmp_path / "bad", progress=False, url=f"{server.url}/openml/api-bad-md5")
    assert not (tmp_path / "bad" / OPENML_FILENAME).exists()


def test_cli_download_then_info_uses_the_downloaded_file(server: FileServer, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MACHOP_JSC_CERNBOX_URL", f"{server.url}/cernbox/download")
    assert main(["data", "download", "jsc", "--json"]) == 0
    downloaded = json.loads(capsys.readouterr().out)
    assert downloaded["reused"] is False and downloaded["bytes"] > 0
    assert main(["data", "info", "jsc", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 60 and info["source"] == downloaded["path"]


def test_download_refuses_bad_arguments(capsys) -> None:
    code = main(["data", "download", "jsc-pythia"])
    err = capsys.readouterr().err
    assert code != 0 and "only dataset 'jsc' can be downloaded" in err and err.count("\n") == 1
    code = main(["data", "download", "jsc", "--sha256", "xyz"])
    err = capsys.readouterr().err
    assert code != 0 and "--sha256 expects 64 hex digits, got 'xyz'" in err and "Traceback" not in err


def test_first_use_downloads_when_nothing_is_found(server: FileServer, isolated: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MACHOP_JSC_CERNBOX_URL", f"{server.url}/cernbox/download")
    assert main(["data", "info", "jsc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == str(isolated / "jsc" / CERNBOX_FILENAME)


def test_offline_is_a_one_line_error_naming_where_to_put_the_file(tmp_path: Path, capsys) -> None:
    with pytest.raises(DataError) as raised:
        download_jsc("cernbox", tmp_path, progress=False, url=f"http://127.0.0.1:{closed_port()}/x")
    message = str(raised.value)
    for needle in ("--data-path", "MACHOP_DATA_DIR", "jsc-pythia", "cache directory"):
        assert needle in message
    assert main(["data", "info", "jsc"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("ch: error: cannot download the JSC dataset") and err.count("\n") == 1
    assert "Traceback" not in err and "jsc-pythia" in err
