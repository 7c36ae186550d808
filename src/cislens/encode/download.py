"""HTTP downloads that survive flaky connections and give up in time: retries with back-off, resume by
HTTP Range, md5 check, and an overall deadline per file.

A file is downloaded to a hidden ``.<name>.part`` beside its destination and renamed into place only
once complete and verified, so a partial or corrupt file never looks complete; an interrupted
transfer (dropped connection, timeout, deadline, killed job) resumes from the bytes already on disk.

Three limits bound the time spent on one file. ``timeout`` is the longest wait for any one network
operation (connect, the response, each read); ``deadline`` is the wall-clock budget of the whole file,
every attempt and back-off wait included: a watchdog shuts the connection down when it passes, so
neither a server that never answers nor one that trickles bytes under ``timeout`` can hold a job
longer (name resolution, which no socket timeout covers, is the one step outside it). Errors that
cannot heal by waiting (an unresolvable host, HTTP 4xx other than 408/425/429, a certificate that
does not verify) fail at once, without retries. Every failure is one line naming the file and URL.
Standard library only: it runs on login nodes and in the light conda environment alike.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import schema
from ..errors import InputError

USER_AGENT = "cislens/0.1 (python urllib)"
CHUNK = 1 << 20
# The schema's `encode:` defaults (cislens.schema, their one source), for callers outside Snakemake.
_DEFAULTS = schema.defaults("encode")
RETRIES: int = int(_DEFAULTS["retries"])  # attempts after the first (encode.retries)
TIMEOUT = float(_DEFAULTS["timeout"])  # seconds without data before an attempt is abandoned (encode.timeout)
DEADLINE = float(_DEFAULTS["deadline"])  # seconds per peak file, metadata and all attempts (encode.deadline)
GENOME_DEADLINE = float(_DEFAULTS["genome_deadline"])  # a reference FASTA, all in (encode.genome_deadline)
Log = Callable[[str], None]


class _Retryable(Exception):
    """A transient failure: the attempt may be repeated (and resumed)."""


class _Permanent(Exception):
    """A failure that waiting cannot heal (unknown host, HTTP 404, ...): never retried."""


def _quiet(_: str) -> None:
    pass


class Deadline:
    """The wall-clock budget of one file, shared by all its requests, attempts and back-off waits."""

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"deadline must be positive, not {seconds!r}")
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0


def as_deadline(deadline: float | Deadline) -> Deadline:
    """``deadline`` itself, or a new one of that many seconds starting now."""
    return deadline if isinstance(deadline, Deadline) else Deadline(deadline)


def _shutdown(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also for an SSLSocket: it only has to wake a blocked read
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """Shuts down every socket one attempt opened when the deadline passes: a read blocked on a silent
    or trickling server then returns at once instead of after ``timeout`` (or never)."""

    def __init__(self, deadline: Deadline) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.fired = False
        self._timer = threading.Timer(max(deadline.remaining(), 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shutdown(sock)

    def cut(self, deadline: Deadline) -> bool:
        """Whether the attempt was ended by the deadline (this watchdog, or a socket timeout that the
        deadline had shortened and that fired first)."""
        return self.fired or deadline.passed

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def connect(self) -> None:
        super().connect()
        self._watchdog.track(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def connect(self) -> None:
        super().connect()  # the TLS handshake is bounded by the per-operation timeout
        self._watchdog.track(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req, watchdog=self._watchdog)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(context=self._ssl_context)
        self._watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=self._ssl_context, watchdog=self._watchdog)


def _open(
    url: str, headers: dict[str, str], timeout: float, deadline: Deadline, watchdog: _Watchdog
) -> http.client.HTTPResponse:
    """urlopen (redirects and proxies as usual) with every connection watched; classifies failures."""
    opener = urllib.request.build_opener(_HTTPHandler(watchdog), _HTTPSHandler(watchdog))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return opener.open(request, timeout=max(min(timeout, deadline.remaining()), 0.001))
    except urllib.error.HTTPError as err:
        err.close()
        raise
    except (OSError, http.client.HTTPException) as err:
        if watchdog.cut(deadline):  # the failure is the deadline's: say so, not "connection reset"
            raise _Retryable("no response before the deadline") from None
        if not isinstance(err, urllib.error.URLError):
            raise _Retryable(str(err) or type(err).__name__) from None
        reason = err.reason
        if isinstance(reason, socket.gaierror):
            host = urlsplit(url).hostname
            raise _Permanent(f"cannot resolve host {host!r} ({reason.strerror or reason})") from None
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise _Permanent(f"TLS certificate not verified ({reason.verify_message or reason})") from None
        raise _Retryable(str(reason)) from None


def _late(name: str, url: str, deadline: Deadline, attempts: int, last: object, tail: str = "") -> InputError:
    return InputError(
        f"{name}: not finished within its {deadline.seconds:g} s deadline ({attempts} attempt"
        f"{'s' if attempts != 1 else ''}, last: {last}; {url}){tail}"
    )


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
    url: str,
    *,
    what: str | None = None,
    retries: int = RETRIES,
    timeout: float = TIMEOUT,
    deadline: float | Deadline = DEADLINE,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> dict[str, Any]:
    """GET ``url`` as JSON, retrying transient failures within ``deadline``; InputError (one line,
    naming ``what``, else the URL) when it cannot."""
    deadline = as_deadline(deadline)
    name = what or url
    last: object = None
    attempts = 0
    while True:
        if deadline.passed:
            raise _late(name, url, deadline, attempts, last or "no attempt started")
        attempts += 1
        try:
            with _Watchdog(deadline) as watchdog:
                with _open(url, {"Accept": "application/json"}, timeout, deadline, watchdog) as response:
                    try:
                        return json.loads(response.read().decode("utf-8"))
                    except (OSError, http.client.HTTPException, ValueError):
                        if watchdog.cut(deadline):  # a body cut short by the deadline
                            raise _Retryable("cut off at the deadline") from None
                        raise
        except urllib.error.HTTPError as err:
            if not _transient(err.code):
                raise InputError(f"{name}: HTTP {err.code} {err.reason} ({url})") from None
            last = f"HTTP {err.code} {err.reason}"
        except _Permanent as err:
            raise InputError(f"{name}: {err} ({url})") from None
        except (_Retryable, OSError, http.client.HTTPException, ValueError) as err:
            last = err
        if deadline.passed:
            raise _late(name, url, deadline, attempts, last)
        if attempts > retries:
            raise InputError(f"{name}: {last} (after {attempts} attempts; {url})")
        wait = backoff * 2 ** (attempts - 1)
        if wait >= deadline.remaining():
            raise _late(name, url, deadline, attempts, last, "; no time left for another attempt")
        log(f"metadata attempt {attempts} failed ({last}); retrying in {wait:g} s")
        time.sleep(wait)


def _attempt(url: str, part: Path, timeout: float, deadline: Deadline, log: Log) -> None:
    """One request, appending to ``part`` from its current size when the server honours Range."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with _Watchdog(deadline) as watchdog:
        try:
            response = _open(url, headers, timeout, deadline, watchdog)
        except urllib.error.HTTPError as err:
            if err.code == 416 and offset:  # nothing left past our bytes: the file is complete
                return
            if _transient(err.code):
                raise _Retryable(f"HTTP {err.code} {err.reason}") from None
            raise _Permanent(f"HTTP {err.code} {err.reason}") from None
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
                try:  # read1: whatever has arrived, so a trickle is kept on disk for the next attempt
                    while block := response.read1(CHUNK):
                        out.write(block)
                        received += len(block)
                except (OSError, http.client.HTTPException) as err:
                    if not watchdog.cut(deadline):
                        raise _Retryable(f"connection lost after {offset + received} bytes ({err})") from None
        complete = expected is not None and received >= expected
        if not complete and watchdog.cut(deadline):  # (a body without a length: never complete when cut)
            raise _Retryable(f"cut off at the deadline after {offset + received} bytes")
        if expected is not None and received < expected:
            raise _Retryable(f"connection closed after {offset + received} of {offset + expected} bytes")


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    md5: str | None = None,
    retries: int = RETRIES,
    timeout: float = TIMEOUT,
    deadline: float | Deadline = DEADLINE,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> Path:
    """Download ``url`` to ``dest`` atomically within ``deadline``, resuming after failures; verify
    ``md5`` when given.

    A wrong md5 removes the download and raises InputError naming the file (after one fresh retry
    when the bytes on disk came from several attempts, in case a server changed mid-way). A passed
    deadline keeps the partial download for the next run to resume.
    """
    deadline = as_deadline(deadline)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    attempts = failures = 0
    resumed = part.exists() and part.stat().st_size > 0
    restarted = False
    last: object = None
    if resumed:
        log(f"found {part.stat().st_size} bytes of an earlier attempt")

    def kept() -> str:
        return f"; rerun to resume from {part.stat().st_size if part.exists() else 0} bytes"

    while True:
        if deadline.passed:
            raise _late(dest.name, url, deadline, attempts, last or "no attempt started", kept())
        attempts += 1
        try:
            _attempt(url, part, timeout, deadline, log)
        except _Permanent as err:
            raise InputError(f"{dest.name}: {err} ({url})") from None
        except _Retryable as err:
            last = err
            failures += 1
            if deadline.passed:
                raise _late(dest.name, url, deadline, attempts, err, kept()) from None
            if failures > retries:
                raise InputError(
                    f"{dest.name}: download failed after {failures} attempts: {err} ({url}){kept()}"
                ) from None
            wait = backoff * 2 ** (failures - 1)
            if wait >= deadline.remaining():
                raise _late(
                    dest.name, url, deadline, attempts, err, f"; no time left for another attempt{kept()}"
                ) from None
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
