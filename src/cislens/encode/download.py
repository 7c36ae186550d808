"""HTTP downloads that survive flaky connections: retries with back-off, resume by HTTP Range, md5 check.

A file is downloaded to a hidden ``.<name>.part`` beside its destination and renamed into place only
once complete and verified, so a partial or corrupt file never looks complete; an interrupted
transfer (dropped connection, timeout, killed job) resumes from the bytes already on disk. Standard
library only: it runs on login nodes and in the light conda environment alike.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError

USER_AGENT = "cislens/0.1 (python urllib)"
CHUNK = 1 << 20
Log = Callable[[str], None]


class _Retryable(Exception):
    """A transient failure: the attempt may be repeated (and resumed)."""


def _quiet(_: str) -> None:
    pass


def md5sum(path: str | os.PathLike) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def part_path(dest: str | os.PathLike) -> Path:
    """The in-progress name of ``dest``: hidden, beside it, never matched as an output."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.part")


def _transient(code: int) -> bool:
    return code >= 500 or code in (408, 425, 429)


def fetch_json(
    url: str, *, retries: int = 5, timeout: float = 60, backoff: float = 1.0, log: Log = _quiet
) -> dict[str, Any]:
    """GET ``url`` as JSON, retrying transient failures; InputError (one line) when it cannot."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if not _transient(err.code):
                raise InputError(f"{url}: HTTP {err.code} {err.reason}") from None
            last = err
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
            last = err
        if attempt < retries:
            wait = backoff * 2**attempt
            log(f"metadata attempt {attempt + 1} failed ({last}); retrying in {wait:g} s")
            time.sleep(wait)
    raise InputError(f"{url}: {last} (after {retries + 1} attempts)")


def _attempt(url: str, part: Path, timeout: float, log: Log) -> None:
    """One request, appending to ``part`` from its current size when the server honours Range."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # nothing left past our bytes: the file is complete
            return
        if _transient(err.code):
            raise _Retryable(f"HTTP {err.code} {err.reason}") from None
        raise InputError(f"{url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise _Retryable(str(err)) from None
    with response:
        if offset and response.status == 206:
            log(f"resuming at byte {offset}")
        else:
            if offset:
                log(f"server ignored the Range request (HTTP {response.status}); restarting")
            offset = 0
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        with open(part, "ab" if offset else "wb") as out:
            try:
                while block := response.read(CHUNK):
                    out.write(block)
                    received += len(block)
            except (OSError, http.client.HTTPException) as err:
                raise _Retryable(f"connection lost after {offset + received} bytes ({err})") from None
        if expected is not None and received < expected:
            raise _Retryable(f"connection closed after {offset + received} of {offset + expected} bytes")


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    md5: str | None = None,
    retries: int = 5,
    timeout: float = 60,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming after failures; verify ``md5`` when given.

    A wrong md5 removes the download and raises InputError naming the file (after one fresh retry
    when the bytes on disk came from several attempts, in case a server changed mid-way).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    failures = 0
    resumed = part.exists() and part.stat().st_size > 0
    restarted = False
    if resumed:
        log(f"found {part.stat().st_size} bytes of an earlier attempt")
    while True:
        try:
            _attempt(url, part, timeout, log)
        except _Retryable as err:
            failures += 1
            if failures > retries:
                raise InputError(
                    f"{dest.name}: download failed after {failures} attempts: {err} ({url}); "
                    f"rerun to resume from {part.stat().st_size if part.exists() else 0} bytes"
                ) from None
            wait = backoff * 2 ** (failures - 1)
            log(f"attempt {failures} failed: {err}; retrying in {wait:g} s")
            time.sleep(wait)
            resumed = True
            continue
        if md5:
            got = md5sum(part)
            if got != md5.lower():
                part.unlink()
                if resumed and not restarted:
                    log(f"md5 {got} != {md5} after a resumed download; downloading once more from scratch")
                    restarted, resumed = True, False
                    continue
                raise InputError(
                    f"{dest.name}: md5 {got} does not match the expected {md5} ({url}); download removed"
                )
            log(f"md5 {got} verified")
        else:
            log("no md5 known for this file: not verified")
        os.replace(part, dest)
        log(f"wrote {dest} ({dest.stat().st_size} bytes)")
        return dest
