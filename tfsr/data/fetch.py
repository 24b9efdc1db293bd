"""Downloading, verifying and installing a catalogued dataset
(`tfsr.data.catalog`) into the data root.

    data root/
        downloads/benchmark.tar        finished archives, kept for other sets
        downloads/benchmark.tar.part   an interrupted download: resumed
        val/Set5/*.png                 an installed set (image files only)

Nothing is lost or half-made when a run is killed: a download grows a
`.part` file that the next run continues (HTTP Range), and a set is
extracted into a temporary folder that is renamed into place only when
complete.  An archive whose checksum does not match is moved aside as
`.bad` and nothing is installed.
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

from tfsr.data.images import IMAGE_EXTENSIONS
from tfsr.errors import UserError

CHUNK = 1 << 20


def download(url, path, progress=True, timeout=60):
    """Fetches `url` to `path`, continuing a `path.part` left by an earlier
    run; returns `path`.  An existing `path` is taken as finished."""
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    part = path + ".part"
    done = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and done:  # the .part is already complete
            os.replace(part, path)
            return path
        raise UserError(f"cannot download {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise UserError(f"cannot download {url}: {getattr(e, 'reason', e)}") from None
    with response:
        if done and response.status != 206:  # the server ignored the range: start over
            done = 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length else None
        with open(part, "ab" if done else "wb") as f:
            shown = 0.0
            while chunk := response.read(CHUNK):
                f.write(chunk)
                done += len(chunk)
                if progress and time.monotonic() - shown > 1.0:
                    shown = time.monotonic()
                    _progress(os.path.basename(path), done, total)
    if total is not None and done != total:
        raise UserError(f"download of {url} ended at {done:,} of {total:,} bytes; run again to resume")
    if progress:
        _progress(os.path.basename(path), done, total, end="\n")
    os.replace(part, path)
    return path


def _progress(name, done, total, end=""):
    of = f" of {total / 1e6:,.1f} MB ({100 * done / total:.0f}%)" if total else " MB"
    print(f"\r  {name}: {done / 1e6:,.1f}{of}", end=end, file=sys.stderr, flush=True)


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, checksum):
    """Checks `path` against "md5:<hex>" / "sha256:<hex>".  Returns a line
    for the user; a mismatch moves the file aside (`.bad`) and raises."""
    if not checksum:
        return f"{os.path.basename(path)}: no published checksum recorded; sha256 {file_digest(path, 'sha256')}"
    algorithm, expected = checksum.split(":", 1)
    actual = file_digest(path, algorithm)
    if actual != expected.lower():
        os.replace(path, path + ".bad")
        raise UserError(f"{path}: {algorithm} {actual} does not match the published {expected}; "
                        f"moved aside to {path}.bad")  # fmt: skip
    return f"{os.path.basename(path)}: {algorithm} verified"


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTENSIONS) and not os.path.basename(name).startswith(".")


def _members(names, member):
    """(archive name, path relative to `member`) of the image files under `member`."""
    for name in names:
        if name.startswith(member) and _is_image(name):
            relative = os.path.normpath(name[len(member) :])
            if relative.startswith("..") or os.path.isabs(relative):
                continue  # never write outside the set's folder
            yield name, relative


def extract(archive, member, target):
    """Writes the image files under `member` of a .zip/.tar(.gz) `archive`
    into the folder `target`; returns how many."""
    count = 0
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for name, relative in _members(z.namelist(), member):
                _write(target, relative, z.open(name))
                count += 1
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            files = {m.name.removeprefix("./"): m for m in t.getmembers() if m.isfile()}
            for name, relative in _members(sorted(files), member):
                _write(target, relative, t.extractfile(files[name]))
                count += 1
    else:
        raise UserError(f"{archive} is neither a zip nor a tar archive")
    return count


def _write(target, relative, source):
    path = os.path.join(target, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with source, open(path, "wb") as out:
        shutil.copyfileobj(source, out)


def copy_folder(folder, member, target):
    """Copies the image files of a local folder (its `member` sub-folder
    when it has one) into `target`; returns how many."""
    base = os.path.join(folder, member) if member and os.path.isdir(os.path.join(folder, member)) else folder
    count = 0
    for root, _, files in os.walk(base):
        for name in sorted(files):
            if _is_image(name):
                relative = os.path.relpath(os.path.join(root, name), base)
                with open(os.path.join(root, name), "rb") as source:
                    _write(target, relative, source)
                count += 1
    return count


def is_installed(data_set, root):
    """Whether `data_set`'s folder under `root` exists and holds something."""
    folder = os.path.join(root, data_set.folder)
    return os.path.isdir(folder) and bool(os.listdir(folder))


def install(data_set, root, source=None, url=None, log=print):
    """Installs `data_set` (a `catalog.DataSet`) under `root`.

    `source`: a local archive or folder to install from instead of
    downloading; `url`: a mirror for the catalogued URL.  Returns the set's
    folder.  An installed set is left as it is.
    """
    folder = os.path.join(root, data_set.folder)
    if is_installed(data_set, root):
        log(f"{data_set.name}: already installed in {folder}")
        return folder
    if source is None:
        url = url or data_set.url
        if not url:
            raise UserError(f"{data_set.name} has no official download URL; install it from a local copy with "
                            f"--from=ARCHIVE_OR_FOLDER")  # fmt: skip
        archive = os.path.join(root, "downloads", url.rsplit("/", 1)[-1])
        log(f"{data_set.name}: downloading {url}")
        download(url, archive)
        log(verify(archive, data_set.checksum))
    elif not os.path.exists(source):
        raise UserError(f"--from: no such file or folder: {source}")
    else:
        archive = source
        if os.path.isfile(source) and data_set.checksum and os.path.basename(source) == data_set.archive:
            log(verify(source, data_set.checksum))
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.", dir=os.path.dirname(folder))
    try:
        if os.path.isdir(archive):
            count = copy_folder(archive, data_set.member, staging)
        else:
            count = extract(archive, data_set.member, staging)
        if count == 0:
            raise UserError(f"{archive}: no image files under {data_set.member or 'its top level'}")
        if os.path.isdir(folder):  # an empty folder left by hand
            os.rmdir(folder)
        os.replace(staging, folder)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)
    log(f"{data_set.name}: {count} images in {folder}")
    return folder
