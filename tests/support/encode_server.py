"""A local HTTP server (a thread on 127.0.0.1) that plays the ENCODE portal for the download tests:
files with HTTP Range, dropped connections, silent and trickling paths, status codes. Nothing here
reaches the internet; every slow handler stops by itself within HOLD seconds."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

HOLD = 10.0  # the longest any slow handler below keeps a connection: the server always stops by itself


class Server:
    """Serves ``files`` (path -> bytes) with HTTP Range support; ``drops[path] = n`` cuts the first n
    responses for that path after half of the body; ``ignore_range`` answers 200 to Range requests.
    Slow paths: ``silent`` ones never answer (the connection is held up to HOLD s, then closed),
    ``trickle[path] = body`` sends one byte every ``TRICKLE`` s (well within any timeout), ``delay[path]``
    waits that long before answering (``max_inflight`` counts requests served at once)."""

    TRICKLE = 0.05

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drops: dict[str, int] = {}
        self.ignore_range: set[str] = set()
        self.status: dict[str, int] = {}
        self.silent: set[str] = set()
        self.trickle: dict[str, bytes] = {}
        self.delay: dict[str, float] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.inflight = self.max_inflight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                server.requests.append((path, self.headers.get("Range")))
                if path in server.silent:
                    server.stop.wait(HOLD)
                    self.close_connection = True
                    return
                if path in server.trickle:
                    body = server.trickle[path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.close_connection = True
                    try:
                        for i in range(len(body)):
                            if server.stop.wait(Server.TRICKLE):
                                return
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                    except OSError:  # the client hung up
                        return
                    return
                if path in server.delay:
                    with server.lock:
                        server.inflight += 1
                        server.max_inflight = max(server.max_inflight, server.inflight)
                    server.stop.wait(server.delay[path])
                    with server.lock:
                        server.inflight -= 1
                if path in server.status:
                    self.send_response(server.status[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                wanted = self.headers.get("Range")
                if wanted and path not in server.ignore_range:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if server.drops.get(path, 0) > 0:
                    server.drops[path] -= 1
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def json(self, path: str, record: dict) -> None:
        self.files[path] = json.dumps(record).encode()

    def downloads(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.requests if p == path]


def serve():
    """A running Server for one test (the modules' ``server`` fixture yields from this); stopped after."""
    srv = Server()
    srv.thread.start()
    yield srv
    srv.stop.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def narrowpeak(chroms: dict[str, int], n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        chrom = list(chroms)[i % len(chroms)]
        start = int(rng.integers(100, chroms[chrom] - 400))
        lines.append(f"{chrom}\t{start}\t{start + 300}\tpeak{i}\t500\t.\t8.0\t-1\t-1\t150\n")
    return gzip.compress("".join(lines).encode(), mtime=0)


def file_object(server: Server, accession: str, body: bytes, md5: str | None = None, **extra) -> dict:
    href = f"/files/{accession}/@@download/{accession}.bed.gz"
    server.files[href] = body
    record = {
        "accession": accession,
        "href": href,
        "md5sum": md5 or md5_of(body),
        "file_size": len(body),
        "file_format": "bed",
        "file_type": "bed narrowPeak",
        "output_type": "IDR thresholded peaks",
        "assembly": "GRCh38",
        "status": "released",
        **extra,
    }
    server.json(f"/files/{accession}/?format=json", record)
    return record
