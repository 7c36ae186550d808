"""The workflow's ENCODE download rules feeding `prepare`, against a local HTTP server playing the
portal (tests/support/encode_server.py, a thread on 127.0.0.1): real Snakemake, tiny files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from cislens.data.dataset import read_info

from ..conftest import ROOT
from ..support.encode_server import Server, file_object, md5_of, narrowpeak, serve

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SNAKEFILE = str(ROOT / "workflow" / "Snakefile")


@pytest.fixture
def server():
    yield from serve()


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
    server.json("/files/TESTGENOME/?format=json", {"accession": "TESTGENOME", "md5sum": md5_of(genome)})
    file_object(server, "ENCFF100AAA", narrowpeak(chroms, 60, 1))
    file_object(server, "ENCFF200BBB", narrowpeak(chroms, 60, 2), output_type="pseudoreplicated peaks")
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
    file_object(server, "ENCFF400DDD", b"truncated or tampered", md5="2" * 32)
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
        f"cislens error: ENCFF400DDD.bed.gz: md5 {md5_of(b'truncated or tampered')} "
        f"does not match the expected {'2' * 32} ({server.url}/files/ENCFF400DDD/@@download/"
        "ENCFF400DDD.bed.gz); download removed"
    ], result.stderr[-3000:]
    leftovers = list((tmp_path / "resources").rglob("*ENCFF400DDD*"))
    assert leftovers == [], leftovers
