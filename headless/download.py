"""Downloads a model file into ComfyUI's model folders: resumable, checked, and never half a file by its name.

The bytes go to a staged temporary beside the target whose name depends on the URL (models/shared/files.py),
so a broken connection, or a second run after Ctrl-C, asks the server for the rest (HTTP Range) instead of
starting over. The file is renamed to its final name only after its length (and SHA-256 where known) match.
Retries are for transfers that break; a host that cannot be reached at all (its name does not resolve, it
refuses the connection, no route leads to it) fails at once with HostUnreachable.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ..models.shared.files import commit_staged, staging_name

CHUNK = 1 << 20
ATTEMPTS = 5
TIMEOUT_S = 60
RETRY_PAUSE_S = 1.0
# connect() errors that mean the host is not there for us now: retrying within seconds will not change them.
UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

Progress = Callable[[int, int | None], None]


class DownloadError(RuntimeError):
    """A download failed or its bytes did not check out; the message says which file and what to do."""


class HostUnreachable(DownloadError):
    """The host did not answer at all (name lookup failed, connection refused, no route): nothing to retry."""

    def __init__(self, host: str, reason: str):
        self.host = host
        super().__init__(f"cannot reach {host}: {reason}")


def unreachable_reason(error: BaseException) -> str | None:
    """Why the host cannot be reached, when `error` says so (urllib wraps the socket's error in URLError)."""
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, socket.gaierror):
        return f"name lookup failed ({cause.strerror or cause})"
    if isinstance(cause, OSError) and cause.errno in UNREACHABLE_ERRNOS:
        return cause.strerror or str(cause)
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _total_length(response: http.client.HTTPResponse, offset: int) -> int | None:
    """The whole file's length from Content-Range (a resumed request) or Content-Length (a full one)."""
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    if match:
        return int(match.group(3)) if match.group(3) != "*" else None
    length = response.headers.get("Content-Length")
    return int(length) + offset if length is not None else None


def _fetch_rest(url: str, staged: Path, progress: Progress | None) -> int | None:
    """Append what the server sends after the staged bytes; returns the file's total length if declared."""
    offset = _size(staged)
    request = urllib.request.Request(url, headers={"User-Agent": "worldkit"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to send: the staged file is already whole
            return offset
        raise DownloadError(f"{url} answered {error.code} {error.reason}") from None
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the Range header: start over
        total = _total_length(response, offset)
        with open(staged, "ab" if offset else "wb") as out:
            done = offset
            while block := response.read(CHUNK):
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    return total


def download(
    url: str, target: Path, *, sha256: str | None = None, progress: Progress | None = None, attempts: int = ATTEMPTS
) -> Path:
    """Fetch ``url`` to ``target``, resuming after dropped connections; raise DownloadError when it fails
    ``attempts`` times in a row or the bytes do not match the declared length or ``sha256``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_name(target, url)
    failures, total = 0, None
    while True:
        before = _size(staged)
        try:
            total, error = _fetch_rest(url, staged, progress), None
        except (OSError, http.client.HTTPException) as exc:
            error = exc
        if error is None and (total is None or _size(staged) >= total):
            break
        if error is not None and (reason := unreachable_reason(error)) is not None:
            raise HostUnreachable(urlsplit(url).hostname or url, reason) from None
        failures = 0 if _size(staged) > before else failures + 1
        if failures >= attempts:
            reason = error or f"the connection closed at {_size(staged)} of {total} bytes"
            again = f"run again to resume from {_size(staged)} bytes" if _size(staged) else "run again to retry"
            raise DownloadError(f"{url}: {reason} ({attempts} tries without progress); {again}")
        time.sleep(RETRY_PAUSE_S * failures)
    _check(staged, url, total, sha256)
    commit_staged(staged, target)
    return target


def _check(staged: Path, url: str, total: int | None, sha256: str | None) -> None:
    """Length and hash checks; a file that fails them is deleted so the next run starts clean."""
    size = staged.stat().st_size
    problem = None
    if total is not None and size != total:
        problem = f"{size} bytes arrived but the server declared {total}"
    elif sha256 is not None and (actual := sha256_of(staged)) != sha256.lower():
        problem = f"SHA-256 is {actual}, the catalog expects {sha256}"
    if problem:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
        raise DownloadError(f"{url}: {problem}; the download was discarded, run again to fetch it afresh")
