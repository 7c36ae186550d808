"""Peak parsing and genome FASTA handling."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from cislens.data import genome, peaks
from cislens.errors import InputError

from ..conftest import REALDATA, write_fasta

NARROW = (
    "track type=narrowPeak name=test\n"
    "browser position chr1:1-100\n"
    "# a comment\n"
    "\n"
    "chr1\t100\t300\tp1\t50\t.\t3.2\t4.1\t2.0\t40\n"
    "chr2\t10\t20\t.\t.\t.\t1\t1\t1\t-1\n"
)


def test_narrowpeak_skips_headers_and_reads_summits(tmp_path: Path) -> None:
    path = tmp_path / "a.narrowPeak"
    path.write_text(NARROW)
    df = peaks.read_peaks(path)
    assert list(df.columns) == list(peaks.COLUMNS)
    assert df["chrom"].tolist() == ["chr1", "chr2"]
    assert df["start"].tolist() == [100, 10] and df["end"].tolist() == [300, 20]
    assert df["summit"].tolist() == [40, -1]
    assert df["name"].tolist() == ["p1", "chr2:10-20"]  # '.' name becomes the coordinates
    assert df["score"].tolist() == [50.0, 0.0]
    assert df["start"].dtype == "int64" and df["summit"].dtype == "int64"


def test_fast_parse_agrees_with_the_line_checker(tmp_path: Path) -> None:
    """The vectorised reader and the line-by-line one give the same table: names as written
    (``007`` stays text), quotes kept, '.' scores and names filled, signed and padded coordinates."""
    text = (
        "# header\n"
        "chr1\t100\t300\t007\t50\t.\t3.2\t4.1\t2.0\t40\n"
        'chr1\t+5\t 20 \t"q\t.\t+\t1\t1\t1\t-1\n'
        "chrX\t7\t9\t.\t12.5\t-\t1\t1\t1\t2\n"
    )
    path = tmp_path / "a.narrowPeak"
    path.write_text(text)
    fast = peaks._fast_parse(path, False, 1)
    assert fast is not None  # well formed: no fallback
    lines = text.splitlines(keepends=True)
    pd.testing.assert_frame_equal(fast, peaks._checked_parse(path, lines, 1), check_dtype=False)
    assert fast["name"].tolist() == ["007", '"q', "chrX:7-9"] and fast["start"].tolist() == [100, 5, 7]


def test_gzip_detected_by_magic_not_suffix(tmp_path: Path) -> None:
    plain = tmp_path / "a.bed"
    plain.write_text(NARROW)
    zipped = tmp_path / "b.bed"  # no .gz suffix on purpose
    zipped.write_bytes(gzip.compress(NARROW.encode()))
    pd.testing.assert_frame_equal(peaks.read_peaks(plain), peaks.read_peaks(zipped))


def test_bed3_has_no_summit(tmp_path: Path) -> None:
    path = tmp_path / "a.bed"
    path.write_text("chr1 5 25\nchr1\t30\t40\n")
    df = peaks.read_peaks(path)
    assert df["summit"].tolist() == [-1, -1] and df["end"].tolist() == [25, 40]


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("chr1\t100", "at least 3"),
        ("chr1\tabc\t200", "not an integer"),
        ("chr1\t-5\t200", "negative"),
        ("chr1\t200\t200", "not greater"),
        ("chr1\t100\t200\tp\t1\t.\t1\t1\t1\t150", "summit"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, what: str) -> None:
    path = tmp_path / "bad.bed"
    path.write_text("track name=x\nchr1\t1\t10\n" + line + "\n")
    with pytest.raises(InputError) as err:
        peaks.read_peaks(path)
    message = str(err.value)
    assert message.startswith(f"{path}:3: ") and what in message and "\n" not in message


@pytest.mark.parametrize("rest", ["", "chr1\t1\t10\n", "chr1\tabc\t10\n"])
def test_one_grammar_whatever_the_rest_of_the_file(tmp_path: Path, rest: str) -> None:
    """An exponent is not a BED coordinate: rejected on its own line by both parsers alike (the fast
    parser used to read 3.2e4 as 32000 unless another line sent the file to the checker)."""
    path = tmp_path / "e.bed"
    path.write_text("chr1\t100\t3.2e4\n" + rest)
    with pytest.raises(InputError, match=r"e\.bed:1: end '3\.2e4' is not an integer"):
        peaks.read_peaks(path)


def test_column_name_line_is_skipped_with_a_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "hand.bed"
    path.write_text("# made by hand\nchrom\tstart\tend\nchr1\t5\t25\nchr1\t30\t40\n")
    with caplog.at_level("WARNING", logger="cislens"):
        df = peaks.read_peaks(path)
    assert df["start"].tolist() == [5, 30]
    assert f"{path}:2: skipped a column-name line" in caplog.text
    # only the first line may name columns: a word in the middle of the file is still an error
    path.write_text("chr1\t5\t25\nchrom\tstart\tend\n")
    with pytest.raises(InputError, match=r"hand\.bed:2: start 'start' is not an integer"):
        peaks.read_peaks(path)


def test_truncated_gzip_and_directory_name_the_file(tmp_path: Path) -> None:
    zipped = gzip.compress((NARROW * 200).encode())
    path = tmp_path / "cut.bed.gz"
    path.write_bytes(zipped[: len(zipped) // 2])
    with pytest.raises(InputError, match=r"cut\.bed\.gz: truncated or corrupt gzip file"):
        peaks.read_peaks(path)
    folder = tmp_path / "peaks_dir"
    folder.mkdir()
    with pytest.raises(InputError, match=r"peaks_dir: is a directory, not a peak file"):
        peaks.read_peaks(folder)


def test_bad_exclude_regex_names_the_key() -> None:
    from cislens.data.windows import filter_chroms

    frame = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]})
    with pytest.raises(InputError, match=r"exclude_chroms: '\(chrM' is not a valid regular expression"):
        filter_chroms(frame, "(chrM")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.narrowPeak"
    path.write_text("track type=narrowPeak\n# nothing\n\n")
    with pytest.raises(InputError, match=r"empty\.narrowPeak"):
        peaks.read_peaks(path)


def test_fasta_without_index_gets_one(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 10, "chr2": "GG" * 7}, width=7)
    out = genome.ensure_fasta(fa, tmp_path / "work")
    assert out == fa and (tmp_path / "g.fa.fai").exists()
    assert genome.chrom_sizes(out) == {"chr1": 40, "chr2": 14}


def test_gzip_fasta_is_decompressed_once(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "g.fa", {"chrA": "ACGTN" * 9}, width=7)
    gz = tmp_path / "g.fa.gz"
    gz.write_bytes(gzip.compress(fa.read_bytes()))
    first = genome.ensure_fasta(gz, tmp_path / "work")
    mtime = first.stat().st_mtime_ns
    second = genome.ensure_fasta(gz, tmp_path / "work")
    assert first == second and second.stat().st_mtime_ns == mtime
    assert first.parent == tmp_path / "work" and first.read_bytes() == fa.read_bytes()
    assert genome.chrom_sizes(first) == {"chrA": 45}


def test_missing_contig_names_file_and_example(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "chrom": ["chr1", "chrZ"],
            "start": [1, 5],
            "end": [9, 9],
            "name": ["a", "zz"],
            "score": [0.0, 0.0],
            "summit": [-1, -1],
        }
    )
    genome.check_contigs(df.iloc[:1], {"chr1": 100}, source="peaks.bed", fasta="g.fa")
    with pytest.raises(InputError) as err:
        genome.check_contigs(df, {"chr1": 100}, source="peaks.bed", fasta="g.fa")
    message = str(err.value)
    assert message.startswith("peaks.bed: contig 'chrZ'") and "'zz'" in message and "g.fa" in message


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata not present")
def test_encode_ctcf_narrowpeak() -> None:
    df = peaks.read_peaks(REALDATA / "ENCFF252PLM.bed.gz")
    assert len(df) == 51_979
    assert (df["summit"] >= 0).all() and (df["summit"] <= df["end"] - df["start"]).all()
    assert df["chrom"].str.startswith("chr").all()


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata not present")
def test_yeast_track_line_skipped() -> None:
    df = peaks.read_peaks(REALDATA / "yeast_atac_hmmratac.narrowPeak")
    assert len(df) == 1_605 and df["name"].iloc[0] == "peak_1" and df["summit"].iloc[0] == 218


def test_bed12_column_ten_is_not_a_summit(tmp_path: Path) -> None:
    bed12 = tmp_path / "genes.bed"
    bed12.write_text("chr1\t1000\t3000\tg1\t0\t+\t1000\t3000\t0\t2\t100,200,\t0,1800,\n")
    assert peaks.read_peaks(bed12)["summit"].tolist() == [-1]
