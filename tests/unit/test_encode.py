"""ENCODE downloads against a local HTTP server (a thread on 127.0.0.1): metadata, experiment
resolution, resume after a dropped connection, md5 rejection, deadlines against a silent and a
trickling server, no retries for an unresolvable host or a 404, parallel fetches; then the workflow's
download rules feeding `prepare`. Nothing here reaches the internet."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import yaml

from cislens import plan as cislens_plan
from cislens.data.dataset import read_info
from cislens.encode import choose_peak_file, download, fetch_peaks, fetch_peaks_many
from cislens.encode.__main__ import main as encode_main
from cislens.encode.download import DEADLINE, GENOME_DEADLINE, part_path
from cislens.errors import InputError
from cislens.plan import check_inputs as check_dataset_inputs
from cislens.plan import dataset_settings

from ..conftest import ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SNAKEFILE = str(ROOT / "workflow" / "Snakefile")


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


@pytest.fixture
def server():
    srv = Server()
    srv.thread.start()
    yield srv
    srv.stop.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _narrowpeak(chroms: dict[str, int], n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        chrom = list(chroms)[i % len(chroms)]
        start = int(rng.integers(100, chroms[chrom] - 400))
        lines.append(f"{chrom}\t{start}\t{start + 300}\tpeak{i}\t500\t.\t8.0\t-1\t-1\t150\n")
    return gzip.compress("".join(lines).encode(), mtime=0)


def _file_object(server: Server, accession: str, body: bytes, md5: str | None = None, **extra) -> dict:
    href = f"/files/{accession}/@@download/{accession}.bed.gz"
    server.files[href] = body
    record = {
        "accession": accession,
        "href": href,
        "md5sum": md5 or _md5(body),
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


def test_download_resumes_after_a_dropped_connection(server: Server, tmp_path: Path) -> None:
    body = bytes(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8))
    server.files["/big.bin"] = body
    server.drops["/big.bin"] = 2  # two attempts cut half-way
    lines: list[str] = []
    out = download(f"{server.url}/big.bin", tmp_path / "big.bin", md5=_md5(body), backoff=0, log=lines.append)
    assert out.read_bytes() == body
    ranges = server.downloads("/big.bin")
    assert ranges[0] is None and len(ranges) == 3
    assert all(
        r and r.startswith("bytes=") and int(r[6:-1]) > 0 for r in ranges[1:]
    )  # resumed, not restarted
    assert any("resuming at byte" in line for line in lines)
    assert not part_path(out).exists()


def test_a_killed_download_resumes_on_the_next_run(server: Server, tmp_path: Path) -> None:
    body = bytes(range(256)) * 1000
    server.files["/f.bin"] = body
    server.drops["/f.bin"] = 10  # more drops than retries: this "run" gives up
    with pytest.raises(InputError, match="rerun to resume"):
        download(f"{server.url}/f.bin", tmp_path / "f.bin", md5=_md5(body), retries=1, backoff=0)
    assert not (tmp_path / "f.bin").exists()  # nothing that looks complete
    kept = part_path(tmp_path / "f.bin").stat().st_size
    assert 0 < kept < len(body)
    server.drops["/f.bin"] = 0
    download(f"{server.url}/f.bin", tmp_path / "f.bin", md5=_md5(body), backoff=0)
    assert (tmp_path / "f.bin").read_bytes() == body
    assert server.downloads("/f.bin")[-1] == f"bytes={kept}-"


def test_a_server_ignoring_range_restarts_cleanly(server: Server, tmp_path: Path) -> None:
    body = b"ACGT" * 50_000
    server.files["/g.fa"] = body
    server.drops["/g.fa"] = 1
    server.ignore_range.add("/g.fa")
    download(f"{server.url}/g.fa", tmp_path / "g.fa", md5=_md5(body), backoff=0)
    assert (tmp_path / "g.fa").read_bytes() == body


def test_wrong_md5_is_rejected_in_one_line(server: Server, tmp_path: Path) -> None:
    server.files["/x.bed.gz"] = b"corrupted bytes"
    with pytest.raises(InputError) as caught:
        download(f"{server.url}/x.bed.gz", tmp_path / "x.bed.gz", md5="0" * 32, backoff=0)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("x.bed.gz: md5 ") and "0" * 32 in message
    assert not (tmp_path / "x.bed.gz").exists() and not part_path(tmp_path / "x.bed.gz").exists()


def test_http_errors(server: Server, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="HTTP 404"):
        download(f"{server.url}/missing", tmp_path / "m", backoff=0)
    assert len(server.downloads("/missing")) == 1  # a 404 is not retried
    server.status["/busy"] = 503
    with pytest.raises(InputError, match="after 3 attempts"):
        download(f"{server.url}/busy", tmp_path / "b", retries=2, backoff=0)
    assert len(server.downloads("/busy")) == 3


def _one_line(error: pytest.ExceptionInfo, start: str) -> str:
    message = str(error.value)
    assert "\n" not in message and message.startswith(start), message
    return message


def test_a_server_that_never_answers_fails_within_the_deadline(server: Server, tmp_path: Path) -> None:
    # The defaults' retries and 60 s timeout used to hold a job 6 x 60 s + back-off (6.5 min) here.
    server.silent.add("/silent.bin")
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        download(f"{server.url}/silent.bin", tmp_path / "s.bin", timeout=60, deadline=1.0, log=lines.append)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0, elapsed
    message = _one_line(caught, "s.bin: not finished within its 1 s deadline (1 attempt, last: no response ")
    assert "/silent.bin" in message and "rerun to resume from 0 bytes" in message
    assert len(server.downloads("/silent.bin")) == 1 and not (tmp_path / "s.bin").exists()


def test_a_trickling_server_fails_within_the_deadline_and_the_bytes_are_kept(
    server: Server, tmp_path: Path
) -> None:
    # One byte every 0.05 s never trips a 0.5 s timeout: only the deadline ends it (today's code would
    # wait the whole 10 s transfer, and a real trickle forever).
    body = bytes(range(200))
    server.trickle["/slow.bin"] = body
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        download(f"{server.url}/slow.bin", tmp_path / "t.bin", md5=_md5(body), timeout=0.5, deadline=1.0)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0, elapsed
    message = _one_line(caught, "t.bin: not finished within its 1 s deadline (1 attempt, last: cut off")
    kept = part_path(tmp_path / "t.bin").read_bytes()
    assert 0 < len(kept) < len(body) and body.startswith(kept), len(kept)
    assert f"rerun to resume from {len(kept)} bytes" in message
    assert not (tmp_path / "t.bin").exists()


def test_an_unresolvable_host_is_tried_once(tmp_path: Path, monkeypatch, capsys) -> None:
    # `.invalid` never resolves (RFC 6761): answered here as a resolver would, so nothing leaves the
    # machine; every other name goes to the real resolver. Counting the look-ups counts the attempts.
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    log = tmp_path / "dl.log"
    out = tmp_path / "ENCFF001AAA.bed.gz"
    argv = ["peaks", "ENCFF001AAA", "--base-url", "http://encode.cislens.invalid", "--out", str(out)]
    status = encode_main([*argv, "--backoff", "0", "--log", str(log)])
    err = capsys.readouterr().err.splitlines()
    assert status == 1 and lookups == ["encode.cislens.invalid"]  # one attempt, no retries
    assert err == [
        "cislens error: ENCFF001AAA: cannot resolve host 'encode.cislens.invalid' (Name or service not "
        "known) (http://encode.cislens.invalid/files/ENCFF001AAA/?format=json)"
    ]
    assert "retrying" not in log.read_text() and err[0] in log.read_text()
    # The same for a file download.
    with pytest.raises(InputError) as caught:
        download("http://genome.cislens.invalid/g.fa.gz", tmp_path / "g.fa.gz", backoff=0)
    _one_line(caught, "g.fa.gz: cannot resolve host 'genome.cislens.invalid'")
    assert lookups == ["encode.cislens.invalid", "genome.cislens.invalid"]


def test_a_missing_accession_is_one_404_and_one_line(server: Server, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        fetch_peaks(
            "ENCFF404AAA", None, tmp_path / "p", tmp_path / "m", base_url=server.url, output_types=["peaks"]
        )
    _one_line(caught, "ENCFF404AAA: HTTP 404 Not Found (http://127.0.0.1:")
    assert len(server.requests) == 1  # not retried
    # A file whose metadata exists but whose download is gone: one request for it too.
    record = _file_object(server, "ENCFF405AAA", b"x")
    del server.files[record["href"]]
    with pytest.raises(InputError) as caught:
        fetch_peaks(
            "ENCFF405AAA", None, tmp_path / "p", tmp_path / "m", base_url=server.url, output_types=["peaks"]
        )
    _one_line(caught, "p: HTTP 404 Not Found (http://127.0.0.1:")
    assert len(server.downloads(record["href"])) == 1


def test_several_accessions_are_fetched_in_parallel(server: Server, tmp_path: Path, capsys) -> None:
    good = {acc: _narrowpeak({"chr1": 5000}, 3, i) for i, acc in enumerate(["ENCFF501AAA", "ENCFF502AAA"])}
    for acc, body in good.items():
        _file_object(server, acc, body)
    for acc in ("ENCFF503AAA", "ENCFF504AAA"):  # portal metadata that never comes
        server.silent.add(f"/files/{acc}/?format=json")
    accessions = [*good, "ENCFF503AAA", "ENCFF504AAA"]
    started = time.monotonic()
    status = encode_main(
        ["peaks", *accessions, "--out", str(tmp_path / "dl"), "--base-url", server.url, "--deadline", "1.5"]
    )
    elapsed = time.monotonic() - started
    assert status == 1 and 1.5 <= elapsed < 2.8, elapsed  # one after the other: at least 3 s
    for acc, body in good.items():
        assert (tmp_path / "dl" / f"{acc}.bed.gz").read_bytes() == body
        assert json.loads((tmp_path / "dl" / f"{acc}.json").read_text())["accession"] == acc
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cislens error:")]
    assert sorted(errors) == [
        f"cislens error: {acc}: not finished within its 1.5 s deadline (1 attempt, last: no response "
        f"before the deadline; {server.url}/files/{acc}/?format=json)"
        for acc in ("ENCFF503AAA", "ENCFF504AAA")
    ]
    # The library call reports each accession's outcome.
    results = fetch_peaks_many(
        ["ENCFF501AAA", "XYZ"], "GRCh38", tmp_path / "again", base_url=server.url, output_types=["peaks"]
    )
    assert isinstance(results["XYZ"], InputError) and str(results["XYZ"]).startswith("XYZ: not an ENCODE")
    assert results["ENCFF501AAA"] == tmp_path / "again" / "ENCFF501AAA.bed.gz"


def test_an_experiments_file_metadata_is_fetched_in_parallel(server: Server, tmp_path: Path) -> None:
    files = [f"ENCFF6{i:02d}AAA" for i in range(6)]
    for i, acc in enumerate(files):
        _file_object(server, acc, _narrowpeak({"chr1": 5000}, 3, i), preferred_default=i == 3)
        server.delay[f"/files/{acc}/?format=json"] = 0.3
    server.json("/experiments/ENCSR600AAA/?format=json", {"files": [f"/files/{acc}/" for acc in files]})
    fetch_peaks(
        "ENCSR600AAA",
        "GRCh38",
        tmp_path / "e.bed.gz",
        tmp_path / "e.json",
        base_url=server.url,
        output_types=["IDR thresholded peaks"],
    )
    assert json.loads((tmp_path / "e.json").read_text())["accession"] == "ENCFF603AAA"
    assert server.max_inflight >= 2


def test_deadline_defaults_agree() -> None:
    settings = cislens_plan.encode_settings({})
    assert settings["deadline"] == DEADLINE and settings["genome_deadline"] == GENOME_DEADLINE
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    encode = schema["properties"]["encode"]["properties"]
    assert encode["deadline"]["default"] == DEADLINE
    assert encode["genome_deadline"]["default"] == GENOME_DEADLINE


def test_file_accession_downloads_with_metadata(server: Server, tmp_path: Path) -> None:
    body = _narrowpeak({"chr1": 5000}, 5, 0)
    _file_object(server, "ENCFF001AAA", body)
    out, meta = tmp_path / "p.bed.gz", tmp_path / "p.json"
    fetch_peaks(
        "ENCFF001AAA",
        "GRCh38",
        out,
        meta,
        base_url=server.url,
        output_types=cislens_plan.encode_defaults()["output_types"],
        backoff=0,
    )
    assert out.read_bytes() == body
    record = json.loads(meta.read_text())
    assert record["accession"] == "ENCFF001AAA" and record["md5sum"] == _md5(body)
    with pytest.raises(InputError, match="assembly GRCh38 is not mm10"):
        fetch_peaks(
            "ENCFF001AAA", "mm10", out, meta, base_url=server.url, output_types=["IDR thresholded peaks"]
        )


def test_bigbed_file_accession_is_refused(server: Server, tmp_path: Path) -> None:
    _file_object(server, "ENCFF002BBB", b"x", file_format="bigBed")
    with pytest.raises(InputError, match="file_format 'bigBed' is not a BED peak file"):
        fetch_peaks(
            "ENCFF002BBB", None, tmp_path / "p", tmp_path / "m", base_url=server.url, output_types=["peaks"]
        )


def test_experiment_resolves_to_its_preferred_peak_file(server: Server, tmp_path: Path) -> None:
    chosen = _narrowpeak({"chr1": 5000}, 4, 1)
    files = [
        _file_object(server, "ENCFF010AAA", b"b", output_type="pseudoreplicated peaks"),
        _file_object(server, "ENCFF011AAA", b"c", assembly="hg19"),
        _file_object(server, "ENCFF012AAA", b"d", file_format="bigBed"),
        _file_object(server, "ENCFF013AAA", b"e", status="archived"),
        _file_object(server, "ENCFF014AAA", b"f", output_type="conservative IDR thresholded peaks"),
    ]
    _file_object(server, "ENCFF015AAA", chosen, preferred_default=True)
    experiment = {"accession": "ENCSR000XYZ", "files": [*files, "/files/ENCFF015AAA/"]}
    server.json("/experiments/ENCSR000XYZ/?format=json", experiment)
    out, meta = tmp_path / "e.bed.gz", tmp_path / "e.json"
    fetch_peaks(
        "ENCSR000XYZ",
        "GRCh38",
        out,
        meta,
        base_url=server.url,
        output_types=cislens_plan.encode_defaults()["output_types"],
        backoff=0,
    )
    record = json.loads(meta.read_text())
    assert record["accession"] == "ENCFF015AAA" and record["experiment"] == "ENCSR000XYZ"
    assert out.read_bytes() == chosen
    # Without an assembly, files of two assemblies are ambiguous.
    with pytest.raises(InputError, match="set the dataset's `assembly`"):
        choose_peak_file(experiment, files, None, cislens_plan.encode_defaults()["output_types"])


def test_cli_reports_one_line(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _file_object(server, "ENCFF003CCC", b"not what the metadata says", md5="1" * 32)
    log = tmp_path / "dl.log"
    status = encode_main(
        [
            "peaks",
            "ENCFF003CCC",
            "--assembly",
            "GRCh38",
            "--out",
            str(tmp_path / "ENCFF003CCC.bed.gz"),
            "--metadata",
            str(tmp_path / "m.json"),
            "--base-url",
            server.url,
            "--backoff",
            "0",
            "--log",
            str(log),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert err == [err[0]] and err[0].startswith("cislens error: ENCFF003CCC.bed.gz: md5 ")
    assert err[0] in log.read_text()


def test_config_points_accessions_at_the_download_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = {
        "datasets": {
            "enc": {
                "kind": "peaks",
                "peaks": {"CTCF": "ENCFF001AAA", "REST": "ENCSR000XYZ", "local": str(tmp_path / "x.bed")},
                "genome": "GRCh38",
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr3"],
            }
        },
        "variants": [],
    }
    settings = dataset_settings(config, "enc")
    assert settings["genome"] == "resources/genomes/GRCh38.fa.gz"
    assert settings["peaks"]["CTCF"] == "resources/encode/GRCh38/ENCFF001AAA.bed.gz"
    assert settings["peaks"]["REST"] == "resources/encode/GRCh38/ENCSR000XYZ.bed.gz"
    assert settings["peaks"]["local"] == str(tmp_path / "x.bed")
    assert settings["encode"] == {"peaks": {"CTCF": "ENCFF001AAA", "REST": "ENCSR000XYZ"}, "genome": "GRCh38"}
    # The DAG-time check skips what is still to be downloaded, and checks the local file.
    with pytest.raises(InputError, match=r"x\.bed does not exist"):
        check_dataset_inputs("enc", settings)
    (tmp_path / "x.bed").write_text("chr1\t10\t300\n")
    check_dataset_inputs("enc", settings)
    # A list of accessions names the tasks after them; a local genome needs `assembly` for an experiment.
    config["datasets"]["enc"].update(peaks=["ENCFF001AAA"], genome=str(tmp_path / "g.fa"), assembly="mm10")
    settings = dataset_settings(config, "enc")
    assert settings["peaks"] == {"ENCFF001AAA": "resources/encode/mm10/ENCFF001AAA.bed.gz"}
    assert settings["genome"] == str(tmp_path / "g.fa")


def _genome(chroms: dict[str, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    text = ""
    for name, size in chroms.items():
        seq = "".join(rng.choice(list("ACGT"), size))
        text += f">{name}\n" + "\n".join(seq[i : i + 60] for i in range(0, size, 60)) + "\n"
    return gzip.compress(text.encode(), mtime=0)


def _snakemake(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "-s", SNAKEFILE, "--directory", str(workdir), "--configfile", str(configfile), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_workflow_downloads_encode_inputs_then_prepares(server: Server, tmp_path: Path) -> None:
    chroms = {"chr1": 30_000, "chr2": 20_000, "chr3": 20_000}
    genome = _genome(chroms, 0)
    genome_href = "/files/TESTGENOME/@@download/TESTGENOME.fasta.gz"
    server.files[genome_href] = genome
    server.drops[genome_href] = 1  # the genome's first transfer is cut half-way: the rule resumes
    server.json("/files/TESTGENOME/?format=json", {"accession": "TESTGENOME", "md5sum": _md5(genome)})
    _file_object(server, "ENCFF100AAA", _narrowpeak(chroms, 60, 1))
    _file_object(server, "ENCFF200BBB", _narrowpeak(chroms, 60, 2), output_type="pseudoreplicated peaks")
    server.json(
        "/experiments/ENCSR300CCC/?format=json",
        {"accession": "ENCSR300CCC", "files": ["/files/ENCFF200BBB/"]},
    )
    config = {
        "datasets": {
            "enc": {
                "kind": "peaks",
                "peaks": {"tf1": "ENCFF100AAA", "tf2": "ENCSR300CCC"},
                "genome": "GRCh38",
                "negatives": "dinuc_shuffle",
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr3"],
            }
        },
        "models": {"m": {"arch": "cnn", "filters": 4}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["m__standard"],
        "encode": {"base_url": server.url, "genome_urls": {"GRCh38": genome_href}, "retries": 2},
    }
    configfile = tmp_path / "enc.yaml"
    configfile.write_text(yaml.safe_dump(config))
    # Planning the DAG downloads nothing.
    dry = _snakemake(tmp_path, configfile, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "rule encode_peaks:" in dry.stdout and "rule encode_genome:" in dry.stdout
    assert server.requests == []
    result = _snakemake(tmp_path, configfile, "--cores", "1", "results/enc/dataset.h5")
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "resources" / "genomes" / "GRCh38.fa.gz").read_bytes() == genome
    assert "resuming at byte" in (tmp_path / "logs" / "encode_genome" / "GRCh38.log").read_text()
    chosen = json.loads((tmp_path / "resources" / "encode" / "GRCh38" / "ENCSR300CCC.json").read_text())
    assert chosen["accession"] == "ENCFF200BBB"
    info = read_info(tmp_path / "results" / "enc" / "dataset.h5")
    assert info["tasks"] == ["tf1", "tf2"] and info["sizes"]["train"] > 0, info
    # Cached: a second run neither plans nor performs any download.
    before = len(server.requests)
    again = _snakemake(tmp_path, configfile, "--cores", "1", "results/enc/dataset.h5")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert len(server.requests) == before


@pytest.mark.slow
def test_workflow_rejects_a_corrupted_download(server: Server, tmp_path: Path) -> None:
    _file_object(server, "ENCFF400DDD", b"truncated or tampered", md5="2" * 32)
    config = {
        "datasets": {
            "bad": {
                "kind": "peaks",
                "peaks": ["ENCFF400DDD"],
                "genome": str(tmp_path / "g.fa"),
                "assembly": "GRCh38",
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr3"],
            }
        },
        "models": {"m": {"arch": "cnn"}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["m__standard"],
        "encode": {"base_url": server.url, "retries": 0},
    }
    (tmp_path / "g.fa").write_text(">chr1\nACGT\n")
    configfile = tmp_path / "bad.yaml"
    configfile.write_text(yaml.safe_dump(config))
    target = "resources/encode/GRCh38/ENCFF400DDD.bed.gz"
    result = _snakemake(tmp_path, configfile, "--cores", "1", target)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("cislens error:")]
    assert errors == [
        f"cislens error: ENCFF400DDD.bed.gz: md5 {_md5(b'truncated or tampered')} "
        f"does not match the expected {'2' * 32} ({server.url}/files/ENCFF400DDD/@@download/"
        "ENCFF400DDD.bed.gz); download removed"
    ], result.stderr[-3000:]
    leftovers = list((tmp_path / "resources").rglob("*ENCFF400DDD*"))
    assert leftovers == [], leftovers
