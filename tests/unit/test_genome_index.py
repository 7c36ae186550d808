"""A FASTA index is trusted only when it describes the FASTA beside it (issue 21, item 1).

Each scenario copies a changed FASTA beside an existing index the way ``cp -p``, ``rsync -a`` or
``tar x`` do (old mtimes kept), and checks that the bases read and the contigs seen are the new ones.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import pandas as pd
import pytest

from cislens.data import genome, windows
from cislens.preflight import check_peak_inputs as check_dataset_inputs
from tests.conftest import write_fasta


def _seq(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(n))


def _windows(chroms: list[str], width: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"chrom": chroms, "start": [5] * len(chroms), "end": [5 + width] * len(chroms)})


def _set_mtime(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


def test_newer_index_beside_a_changed_fasta_is_rebuilt(tmp_path: Path) -> None:
    """The issue's case: an earlier header changed, windows on the later contigs, chrUn unused.

    On the old code (index trusted because it is newer) both windows come back wrong and nothing
    fails: the 3-byte shift stays inside each contig's read span.
    """
    old = {"chr1": _seq(100, 1), "chr2": _seq(121, 2), "chr3": _seq(182, 3), "chrUn_x": _seq(300, 4)}
    new = {"chr1 v2": _seq(100, 5), "chr2": _seq(121, 6), "chr3": _seq(182, 7), "chrUn_x": _seq(300, 8)}
    fa = write_fasta(tmp_path / "g.fa", old, width=60)
    genome.build_index(fa)
    # A new FASTA arrives with an older mtime than the index (cp -p / rsync -a / tar x).
    write_fasta(tmp_path / "g.fa", new, width=60)
    _set_mtime(fa, 1_000_000)
    _set_mtime(tmp_path / "g.fa.fai", 2_000_000)
    chroms = ["chr2", "chr3"]
    got = windows.fetch_sequences(fa, _windows(chroms))
    assert got == [new[c][5:25] for c in chroms]
    onehot = windows.fetch_onehot(fa, _windows(chroms))
    assert ["".join("ACGT"[i] for i in row.argmax(-1)) for row in onehot] == got


def test_newer_index_beside_a_longer_contig_is_rebuilt(tmp_path: Path) -> None:
    old = {"chr1": _seq(100, 1), "chr2": _seq(90, 2), "chrUn_x": _seq(300, 4)}
    new = {"chr1": _seq(130, 5), "chr2": _seq(90, 6), "chrUn_x": _seq(300, 8)}
    fa = write_fasta(tmp_path / "g.fa", old, width=60)
    genome.build_index(fa)
    write_fasta(tmp_path / "g.fa", new, width=60)
    _set_mtime(fa, 1_000_000)
    assert genome.chrom_sizes(fa)["chr1"] == 130
    assert windows.fetch_sequences(fa, _windows(["chr1", "chr2"])) == [new[c][5:25] for c in ("chr1", "chr2")]


def test_index_copied_beside_a_fasta_with_another_header_is_rebuilt(tmp_path: Path) -> None:
    """Same lengths, longer header line: every offset after it moves by the added bytes."""
    records = {"chr1": _seq(70, 1), "chr2": _seq(70, 2), "chrUn": _seq(50, 3)}
    fa = write_fasta(tmp_path / "g.fa", records, width=50)
    genome.build_index(fa)
    text = fa.read_text().replace(">chr1\n", ">chr1 assembled 2026\n")
    fa.write_text(text)
    _set_mtime(fa, 1_000_000)
    assert genome.index_problem(fa, genome.read_fai(tmp_path / "g.fa.fai")) is not None
    assert windows.fetch_sequences(fa, _windows(["chr2"])) == [records["chr2"][5:25]]


def test_older_index_is_rebuilt_and_the_dag_check_finds_the_contig(tmp_path: Path, monkeypatch) -> None:
    """An index older than a FASTA that gained a contig: DAG time must not call the contig missing."""
    monkeypatch.chdir(tmp_path)
    fa = write_fasta(tmp_path / "g.fa", {"chr1": _seq(100, 1)}, width=60)
    genome.build_index(fa)
    _set_mtime(tmp_path / "g.fa.fai", 1_000_000)
    write_fasta(tmp_path / "g.fa", {"chr1": _seq(100, 1), "chr2": _seq(100, 2)}, width=60)
    (tmp_path / "p.bed").write_text("chr2\t10\t60\n")
    settings = {
        "kind": "peaks",
        "genome": str(fa),
        "peaks": {"t": str(tmp_path / "p.bed")},
        "exclude_chroms": windows.DEFAULT_EXCLUDE,
        "valid_chroms": ["chr1"],  # a run's schema fills these; here contigs the FASTA has
        "test_chroms": ["chr2"],
    }
    assert genome.validated_index(fa, build=False) is None  # stale: not trusted, not built at DAG time
    check_dataset_inputs("d", settings)  # no "contig 'chr2' is not in the genome"
    assert list(genome.validated_index(fa)) == ["chr1", "chr2"]  # prepare rebuilds it
    check_dataset_inputs("d", settings)  # now checked against the valid index
    (tmp_path / "p.bed").write_text("chr9\t10\t60\n")
    with pytest.raises(Exception, match="chr9"):
        check_dataset_inputs("d", settings)


@pytest.mark.parametrize(
    "text",
    [
        ">a desc\nACGTA\nCG\n>b\nACGTA\nACGTA\n",  # header description; last line full
        ">a\r\nACGTA\r\nCG\r\n>b\r\nAC\r\n",  # CRLF
        ";comment\n\n>a\nACGTA\nCG\n>b\nACGTA\nA",  # comment, blank line, no final newline
        ">a\nACGTA\nCG\n>b\nACGTA\nACG\n\n",  # trailing blank line
    ],
)
def test_a_fresh_index_is_valid_and_kept(tmp_path: Path, text: str) -> None:
    fa = tmp_path / "g.fa"
    fa.write_bytes(text.encode())
    entries = genome.validated_index(fa)
    assert entries is not None and genome.index_problem(fa, entries) is None
    stamp = (tmp_path / "g.fa.fai").stat().st_mtime_ns
    _set_mtime(tmp_path / "g.fa.fai", 1_000_000)  # older than the FASTA but right: kept, not rebuilt
    assert genome.validated_index(fa) == entries
    assert (tmp_path / "g.fa.fai").stat().st_mtime_ns != stamp


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + ">c\nAAAA\n",  # a contig appended after the indexed ones
        lambda t: t.replace("ACGTA\nCG\n", "ACGTA\nCGT\n", 1),  # last contig longer
        lambda t: t.replace("CG\n>b", "C\n>b", 1),  # first contig shorter
        lambda t: t.replace("ACGTA\nCG", "ACGTACG", 1),  # other line layout
        lambda t: t.replace(">b", ">B", 1),  # renamed
    ],
)
def test_index_problem_sees_any_change_that_moves_a_base(tmp_path: Path, change) -> None:
    fa = tmp_path / "g.fa"
    text = ">a\nACGTA\nCG\n>b\nACGTA\nCG\n"
    fa.write_text(text)
    entries = genome.validated_index(fa)
    fa.write_text(change(text))
    assert genome.index_problem(fa, entries) is not None


def test_same_size_gzip_copy_with_old_mtime_is_decompressed_again(tmp_path: Path) -> None:
    """Stored (level-0) gzip of two same-length genomes: same size; the copy keeps the old mtime."""
    one = {"chr1": _seq(200, 1), "chr2": _seq(200, 2)}
    two = {"chr1": _seq(200, 3), "chr2": _seq(200, 4)}
    gz = tmp_path / "g.fa.gz"
    gz.write_bytes(
        gzip.compress(write_fasta(tmp_path / "one.fa", one).read_bytes(), compresslevel=0, mtime=0)
    )
    first = genome.ensure_fasta(gz, tmp_path / "work")
    size = gz.stat().st_size
    gz.write_bytes(
        gzip.compress(write_fasta(tmp_path / "two.fa", two).read_bytes(), compresslevel=0, mtime=0)
    )
    assert gz.stat().st_size == size
    _set_mtime(gz, 1_000_000)
    second = genome.ensure_fasta(gz, tmp_path / "work")
    assert windows.fetch_sequences(second, _windows(["chr2"])) == [two["chr2"][5:25]]
    assert first != second
