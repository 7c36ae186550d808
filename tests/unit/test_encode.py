"""ENCODE downloads against a local HTTP server (tests/support/encode_server.py, a thread on
127.0.0.1): metadata, experiment resolution, resume after a dropped connection, md5 rejection,
deadlines against a silent and a trickling server, no retries for an unresolvable host or a 404,
parallel fetches. The workflow's download rules are tested in tests/integration/test_encode_workflow.py.
Nothing here reaches the internet."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from cislens import plan as cislens_plan
from cislens.encode import choose_peak_file, download, fetch_peaks, fetch_peaks_many
from cislens.encode.__main__ import main as encode_main
from cislens.encode.download import DEADLINE, GENOME_DEADLINE, part_path
from cislens.errors import InputError
from cislens.plan import check_inputs as check_dataset_inputs
from cislens.plan import dataset_settings

from ..conftest import ROOT
from ..support.encode_server import Server, file_object, md5_of, narrowpeak, serve


@pytest.fixture
def server():
    yield from serve()


def test_download_resumes_after_a_dropped_connection(server: Server, tmp_path: Path) -> None:
    body = bytes(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8))
    server.files["/big.bin"] = body
    server.drops["/big.bin"] = 2  # two attempts cut half-way
    lines: list[str] = []
    out = download(
        f"{server.url}/big.bin", tmp_path / "big.bin", md5=md5_of(body), backoff=0, log=lines.append
    )
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
        download(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5_of(body), retries=1, backoff=0)
    assert not (tmp_path / "f.bin").exists()  # nothing that looks complete
    kept = part_path(tmp_path / "f.bin").stat().st_size
    assert 0 < kept < len(body)
    server.drops["/f.bin"] = 0
    download(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5_of(body), backoff=0)
    assert (tmp_path / "f.bin").read_bytes() == body
    assert server.downloads("/f.bin")[-1] == f"bytes={kept}-"


def test_a_server_ignoring_range_restarts_cleanly(server: Server, tmp_path: Path) -> None:
    body = b"ACGT" * 50_000
    server.files["/g.fa"] = body
    server.drops["/g.fa"] = 1
    server.ignore_range.add("/g.fa")
    download(f"{server.url}/g.fa", tmp_path / "g.fa", md5=md5_of(body), backoff=0)
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
        download(f"{server.url}/slow.bin", tmp_path / "t.bin", md5=md5_of(body), timeout=0.5, deadline=1.0)
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
    record = file_object(server, "ENCFF405AAA", b"x")
    del server.files[record["href"]]
    with pytest.raises(InputError) as caught:
        fetch_peaks(
            "ENCFF405AAA", None, tmp_path / "p", tmp_path / "m", base_url=server.url, output_types=["peaks"]
        )
    _one_line(caught, "p: HTTP 404 Not Found (http://127.0.0.1:")
    assert len(server.downloads(record["href"])) == 1


def test_several_accessions_are_fetched_in_parallel(server: Server, tmp_path: Path, capsys) -> None:
    good = {acc: narrowpeak({"chr1": 5000}, 3, i) for i, acc in enumerate(["ENCFF501AAA", "ENCFF502AAA"])}
    for acc, body in good.items():
        file_object(server, acc, body)
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
        file_object(server, acc, narrowpeak({"chr1": 5000}, 3, i), preferred_default=i == 3)
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
    body = narrowpeak({"chr1": 5000}, 5, 0)
    file_object(server, "ENCFF001AAA", body)
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
    assert record["accession"] == "ENCFF001AAA" and record["md5sum"] == md5_of(body)
    with pytest.raises(InputError, match="assembly GRCh38 is not mm10"):
        fetch_peaks(
            "ENCFF001AAA", "mm10", out, meta, base_url=server.url, output_types=["IDR thresholded peaks"]
        )


def test_bigbed_file_accession_is_refused(server: Server, tmp_path: Path) -> None:
    file_object(server, "ENCFF002BBB", b"x", file_format="bigBed")
    with pytest.raises(InputError, match="file_format 'bigBed' is not a BED peak file"):
        fetch_peaks(
            "ENCFF002BBB", None, tmp_path / "p", tmp_path / "m", base_url=server.url, output_types=["peaks"]
        )


def test_experiment_resolves_to_its_preferred_peak_file(server: Server, tmp_path: Path) -> None:
    chosen = narrowpeak({"chr1": 5000}, 4, 1)
    files = [
        file_object(server, "ENCFF010AAA", b"b", output_type="pseudoreplicated peaks"),
        file_object(server, "ENCFF011AAA", b"c", assembly="hg19"),
        file_object(server, "ENCFF012AAA", b"d", file_format="bigBed"),
        file_object(server, "ENCFF013AAA", b"e", status="archived"),
        file_object(server, "ENCFF014AAA", b"f", output_type="conservative IDR thresholded peaks"),
    ]
    file_object(server, "ENCFF015AAA", chosen, preferred_default=True)
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
    file_object(server, "ENCFF003CCC", b"not what the metadata says", md5="1" * 32)
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


def test_signal_and_blacklist_accessions(server: Server, tmp_path: Path, monkeypatch) -> None:
    import pyBigWig

    track = tmp_path / "made.bw"
    handle = pyBigWig.open(str(track), "w")
    handle.addHeader([("chr1", 5000)])
    handle.addEntries(["chr1"], [100], ends=[200], values=[3.5])
    handle.close()
    body = track.read_bytes()
    file_object(server, "ENCFF003CCC", body, file_format="bigWig", output_type="fold change over control")
    out = tmp_path / "resources" / "ENCFF003CCC.bigWig"
    code = encode_main(
        ["signal", "ENCFF003CCC", "--assembly", "GRCh38", "--out", str(out), "--base-url", server.url]
    )
    assert code == 0 and out.read_bytes() == body  # md5-checked, and a bigWig pyBigWig reads
    with pyBigWig.open(str(out)) as bw:
        assert bw.values("chr1", 150, 151) == [3.5]
    assert json.loads((out.parent / "ENCFF003CCC.json").read_text())["file_format"] == "bigWig"
    file_object(server, "ENCFF004DDD", b"chr1\t1\t2\n")  # a BED is not a signal track
    with pytest.raises(InputError, match="file_format 'bed' is not a bigWig file"):
        fetch_peaks(
            "ENCFF004DDD", None, tmp_path / "s", tmp_path / "m", base_url=server.url, output_types=[],
            file_format="bigWig",
        )  # fmt: skip
    with pytest.raises(InputError, match="ENCSR000XYZ: name the bigWig file by its ENCFF accession"):
        fetch_peaks("ENCSR000XYZ", None, tmp_path / "s", tmp_path / "m", base_url=server.url,
                    output_types=[], file_format="bigWig")  # fmt: skip

    monkeypatch.chdir(tmp_path)
    config = {
        "datasets": {
            "enc": {
                "kind": "peaks",
                "peaks": {"CTCF": "ENCFF001AAA"},
                "signal": {"CTCF": "ENCFF003CCC", "local": "mine.bw"},
                "exclude_regions": ["ENCFF356LFX", "mine.bed"],
                "genome": "GRCh38",
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr3"],
            }
        },
        "variants": [],
    }
    settings = dataset_settings(config, "enc")
    assert settings["signal"] == {"CTCF": "resources/encode/GRCh38/ENCFF003CCC.bigWig", "local": "mine.bw"}
    assert settings["exclude_regions"] == ["resources/encode/GRCh38/ENCFF356LFX.bed.gz", "mine.bed"]
    assert settings["encode"]["signal"] == {"CTCF": "ENCFF003CCC"}
    assert settings["encode"]["exclude_regions"] == ["ENCFF356LFX"]
    # The DAG-time check skips the downloads and names the missing local files.
    with pytest.raises(InputError, match=r"signal bigWig for task 'local': mine\.bw does not exist"):
        check_dataset_inputs("enc", settings)
    (tmp_path / "mine.bw").write_bytes(body)
    with pytest.raises(InputError, match=r"exclude_regions BED mine\.bed does not exist"):
        check_dataset_inputs("enc", settings)
    config["datasets"]["enc"]["signal"] = {"CTCF": "ENCSR000XYZ"}
    with pytest.raises(InputError, match="signal: ENCSR000XYZ is an experiment; name its file"):
        dataset_settings(config, "enc")
