"""tfsr-data's download, resume, verification and installation, against a
local HTTP server on 127.0.0.1 (nothing here reaches the internet)."""

import dataclasses
import hashlib
import http.server
import io
import os
import tarfile
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import run_tool
from tfsr.data import catalog, fetch
from tfsr.data import root as data_root
from tfsr.data.evalsets import load_eval_set
from tfsr.errors import UserError


def _png_bytes(rng, size=(24, 32)):
    buffer = io.BytesIO()
    Image.fromarray((rng.random((*size, 3)) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A benchmark.tar laid out as EDSR's: benchmark/<set>/HR/*.png and LR files beside."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("archives") / "benchmark.tar"
    with tarfile.open(path, "w") as tar:
        for set_name, count in (("Set5", 5), ("Set14", 14)):
            for i in range(count):
                for part in (f"HR/img{i}.png", f"LR_bicubic/X2/img{i}x2.png"):
                    data = _png_bytes(rng)
                    info = tarfile.TarInfo(f"benchmark/{set_name}/{part}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return path


class RangeServer(http.server.ThreadingHTTPServer):
    """Serves one file with HTTP Range support; counts requests and bytes sent."""

    def __init__(self, path):
        self.path, self.requests, self.sent, self.ranges = path, 0, 0, []
        super().__init__(("127.0.0.1", 0), RangeHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/{os.path.basename(self.path)}"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (http.server's naming)
        data = open(self.server.path, "rb").read()
        self.server.requests += 1
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.server.ranges.append(start)
        # Counted before sending: the client may finish reading before this thread goes on.
        self.server.sent += len(data) - start
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(bundle):
    httpd = RangeServer(str(bundle))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def _sha256(path):
    return "sha256:" + hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_download_verify_install_and_reuse_the_archive(tmp_path, server, bundle):
    root = str(tmp_path / "data")
    lines = []
    set5 = dataclasses.replace(catalog.SETS["set5"], url=server.url, checksum=_sha256(bundle))
    folder = fetch.install(set5, root, log=lines.append)
    assert sorted(os.listdir(folder)) == [f"img{i}.png" for i in range(5)]  # HR only
    assert any("sha256 verified" in line for line in lines)
    # Set14 comes from the same archive: no second download.
    set14 = dataclasses.replace(catalog.SETS["set14"], url=server.url)
    fetch.install(set14, root, log=lines.append)
    assert server.requests == 1 and len(os.listdir(os.path.join(root, "val", "Set14"))) == 14
    assert any("no published checksum" in line for line in lines)  # reported, not trusted silently
    # The installed folder is an evaluation set (LR made by MATLAB bicubic).
    assert len(load_eval_set(folder, 2)) == 5
    # Installing again leaves the set alone.
    fetch.install(set5, root, log=lines.append)
    assert server.requests == 1 and "already installed" in lines[-1]


def test_a_killed_download_resumes_where_it_stopped(tmp_path, server, bundle):
    data = open(bundle, "rb").read()
    archive = tmp_path / "downloads" / "benchmark.tar"
    archive.parent.mkdir()
    half = len(data) // 2
    (tmp_path / "downloads" / "benchmark.tar.part").write_bytes(data[:half])
    fetch.download(server.url, str(archive), progress=False)
    assert archive.read_bytes() == data
    assert server.ranges == [half] and server.sent == len(data) - half
    assert not (tmp_path / "downloads" / "benchmark.tar.part").exists()


def test_a_checksum_mismatch_installs_nothing(tmp_path, server):
    root = tmp_path / "data"
    bad = dataclasses.replace(catalog.SETS["set5"], url=server.url, checksum="md5:" + "0" * 32)
    with pytest.raises(UserError, match="does not match the published"):
        fetch.install(bad, str(root), log=lambda m: None)
    assert not (root / "val" / "Set5").exists()
    assert (root / "downloads" / "benchmark.tar.bad").exists()
    assert not (root / "val").exists() or not list((root / "val").iterdir())  # no half-made folder left


def test_install_from_a_local_archive_or_folder(tmp_path, rng):
    zipped = tmp_path / "DIV2K_train_HR.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for i in range(3):
            z.writestr(f"DIV2K_train_HR/{i:04d}.png", _png_bytes(rng))
        z.writestr("DIV2K_train_HR/readme.txt", "not an image")
        z.writestr("../escape.png", _png_bytes(rng))  # never written outside the set's folder
    div2k = dataclasses.replace(catalog.SETS["div2k"], checksum=None)
    folder = fetch.install(div2k, str(tmp_path / "data"), source=str(zipped), log=lambda m: None)
    assert sorted(os.listdir(folder)) == ["0000.png", "0001.png", "0002.png"]
    assert not (tmp_path / "escape.png").exists()
    # A local folder of images (T91 has no official URL).
    folder = fetch.install(catalog.SETS["t91"], str(tmp_path / "data"), source=folder, log=lambda m: None)
    assert len(os.listdir(folder)) == 3
    with pytest.raises(UserError, match="--from"):
        fetch.install(catalog.SETS["bsd200"], str(tmp_path / "data"), log=lambda m: None)


def test_configs_resolve_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("TFSR_DATA", str(tmp_path))
    assert data_root.expand("$TFSR_DATA/train/T91") == str(tmp_path / "train" / "T91")
    assert data_root.expand("photos/x") == "photos/x"
    with pytest.raises(UserError, match=r"tfsr-data get T91"):
        load_eval_set("$TFSR_DATA/train/T91", 2)
    data_root.set_root(str(tmp_path / "flag"))
    try:
        assert data_root.root() == str(tmp_path / "flag")  # --data_root wins over TFSR_DATA
    finally:
        data_root.set_root(None)


def test_the_tool_lists_the_standard_sets(tmp_path):
    result = run_tool("data", f"--data_root={tmp_path}")
    assert result.returncode == 0, result.stderr
    for name in ("DIV2K", "Flickr2K", "T91", "BSD200", "General-100", "Set5", "Set14", "B100", "Urban100"):
        assert f"\n{name} " in result.stdout
    assert str(tmp_path) in result.stdout
