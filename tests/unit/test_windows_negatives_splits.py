"""Windows, sequence fetching, negatives and splits."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyfaidx
import pytest

from cislens.data import negatives, onehot, shuffle, splits, windows
from cislens.errors import InputError

from ..conftest import write_fasta


def _frame(chroms, starts, ends, summits=None) -> pd.DataFrame:
    n = len(chroms)
    summits = summits if summits is not None else [-1] * n
    return pd.DataFrame(
        {
            "chrom": list(chroms),
            "start": np.asarray(starts, np.int64),
            "end": np.asarray(ends, np.int64),
            "name": [f"p{i}" for i in range(n)],
            "score": np.zeros(n),
            "summit": np.asarray(summits, np.int64),
        }
    )


def test_filter_chroms_drops_mito_and_unplaced() -> None:
    df = _frame(
        ["chr1", "chrM", "chrUn_KI270302v1", "chr1_KI270706v1_random", "chr2", "MT", "chrX_alt"],
        range(7),
        range(10, 17),
    )
    kept, dropped = windows.filter_chroms(df, windows.DEFAULT_EXCLUDE)
    assert kept["chrom"].tolist() == ["chr1", "chr2"] and dropped == 5


def test_summit_vs_midpoint_centring() -> None:
    df = _frame(["c", "c"], [100, 100], [201, 201], [10, -1])
    summit = windows.center_windows(df, 20, "summit")
    assert summit["start"].tolist() == [100, 140] and summit["end"].tolist() == [120, 160]
    mid = windows.center_windows(df, 20, "midpoint")
    assert mid["start"].tolist() == [140, 140]  # midpoint = 100 + 101 // 2 = 150
    odd = windows.center_windows(df, 21, "midpoint")
    assert odd["start"].tolist() == [140, 140] and odd["end"].tolist() == [161, 161]


def test_off_chrom_windows_dropped_and_counted() -> None:
    df = _frame(["a", "a", "a", "b"], [0, 50, 90, 0], [10, 60, 100, 10])
    win = windows.center_windows(df, 30, "midpoint")  # starts -10, 40, 80, -10
    kept, dropped = windows.drop_off_chrom(win, {"a": 100, "b": 1000})
    assert kept["start"].tolist() == [40] and dropped == 3


def test_fetch_sequences_matches_pyfaidx(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    recs = {f"c{i}": "".join(rng.choice(list("ACGTacgtN"), size=1000 + 37 * i)) for i in range(3)}
    fa = write_fasta(tmp_path / "g.fa", recs, width=61)
    df = _frame([f"c{i % 3}" for i in range(50)], rng.integers(0, 900, 50), np.zeros(50, np.int64))
    df["end"] = df["start"] + 50
    seqs = windows.fetch_sequences(fa, df)
    ref = pyfaidx.Fasta(str(fa))
    for seq, (c, s, e) in zip(seqs, df[["chrom", "start", "end"]].itertuples(index=False), strict=True):
        assert seq == str(ref[c][int(s) : int(e)]).upper()
    x = windows.fetch_onehot(fa, df)
    assert x.dtype == np.uint8 and x.shape == (50, 50, 4)
    np.testing.assert_array_equal(x, onehot.one_hot(seqs, dtype=np.uint8))
    assert (x.sum(-1) == 0).any()  # N and lower-case handled like one_hot


def test_fetch_onehot_reads_across_line_ends_and_any_line_width(tmp_path: Path) -> None:
    """Windows that cross line ends of CRLF files, of one-line contigs and of ragged last lines all
    come out as the bases pyfaidx reads; rows keep the frame's order across interleaved contigs."""
    rng = np.random.default_rng(1)
    recs = {"a": "".join(rng.choice(list("ACGTn"), 997)), "b": "".join(rng.choice(list("acgtN"), 130))}
    crlf = tmp_path / "crlf.fa"
    crlf.write_bytes(write_fasta(tmp_path / "lf.fa", recs, width=50).read_bytes().replace(b"\n", b"\r\n"))
    one_line = write_fasta(tmp_path / "one.fa", recs, width=2000)
    df = _frame(["b", "a", "b", "a", "a"], [0, 0, 70, 947, 490], [60, 60, 130, 1007, 550])
    df["end"] = df["start"] + 50
    for fa in (crlf, one_line):
        ref = pyfaidx.Fasta(str(fa))
        pairs = zip(df["chrom"], df["start"], strict=True)
        seqs = [str(ref[c][int(s) : int(s) + 50]).upper() for c, s in pairs]
        np.testing.assert_array_equal(windows.fetch_onehot(fa, df), onehot.one_hot(seqs, dtype=np.uint8))
    with pytest.raises(InputError, match="contig 'z' is not in the genome FASTA"):
        windows.fetch_onehot(one_line, _frame(["z"], [0], [50]))
    with pytest.raises(InputError, match="falls outside the chromosome"):
        windows.fetch_onehot(one_line, _frame(["b"], [100], [150]))


def test_n_rich_windows_dropped_and_counted() -> None:
    seqs = ["ACGTACGTAC", "NNACGTACGT", "NNNNNACGTA", "ACGTRYACGT"]
    df = _frame(["c"] * 4, range(4), range(10, 14))
    kept, frame, dropped = windows.drop_n_rich(seqs, df, 0.2)
    assert kept == ["ACGTACGTAC", "NNACGTACGT", "ACGTRYACGT"] and dropped == 1
    assert frame["name"].tolist() == ["p0", "p1", "p3"]


def _gc_genome(tmp_path: Path) -> tuple[Path, dict[str, int], pd.DataFrame]:
    """Two chromosomes of 1-kb blocks whose GC varies 0.2..0.8; peaks sit in the high-GC blocks."""
    rng = np.random.default_rng(1)
    recs, peak_rows = {}, []
    for c in ("chr1", "chr2"):
        blocks = []
        for b in range(120):
            gc = 0.2 + 0.6 * (b % 7) / 6
            p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
            blocks.append("".join(rng.choice(list("ACGT"), size=1000, p=p)))
            if b % 7 >= 4 and b % 2 == 0:
                peak_rows.append((c, b * 1000 + 300, b * 1000 + 700))
        recs[c] = "".join(blocks)
    fa = write_fasta(tmp_path / "gc.fa", recs)
    df = _frame(*zip(*peak_rows, strict=True))
    return fa, {c: len(s) for c, s in recs.items()}, df


def test_gc_matched_negatives_match_gc_and_avoid_peaks(tmp_path: Path) -> None:
    fa, sizes, peaks_df = _gc_genome(tmp_path)
    pos = windows.center_windows(peaks_df, 200, "midpoint")
    neg = negatives.gc_matched(pos, fa, sizes, n_per_peak=1, seed=3, exclude_df=peaks_df)
    assert len(neg) == len(pos) and (neg["end"] - neg["start"] == 200).all()
    pos_gc = negatives.gc_fraction(windows.fetch_sequences(fa, pos))
    neg_gc = negatives.gc_fraction(windows.fetch_sequences(fa, neg))
    bins = np.linspace(0, 1, 11)
    h_pos = np.histogram(pos_gc, bins)[0] / len(pos_gc)
    h_neg = np.histogram(neg_gc, bins)[0] / len(neg_gc)
    assert np.abs(h_pos - h_neg).sum() < 0.15 and abs(pos_gc.mean() - neg_gc.mean()) < 0.02
    # Uniform genomic background would be far less GC-rich than the peaks.
    assert pos_gc.mean() - 0.5 > 0.1
    for row in neg.itertuples():
        same = peaks_df[peaks_df["chrom"] == row.chrom]
        assert not ((same["start"] < row.end) & (same["end"] > row.start)).any()
    ordered = neg.sort_values(["chrom", "start"])
    gaps = ordered.groupby("chrom")["start"].diff().dropna()
    assert (gaps >= 200).all()  # negatives do not overlap each other
    again = negatives.gc_matched(pos, fa, sizes, n_per_peak=1, seed=3, exclude_df=peaks_df)
    pd.testing.assert_frame_equal(neg, again)


def _dinucs(seq: str) -> Counter:
    return Counter(a + b for a, b in itertools.pairwise(seq))


def test_dinuc_shuffle_keeps_dinucleotide_counts() -> None:
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGT"), size=80)) for _ in range(5)] + ["ACGTNNACGTTTGCAAN" * 4]
    out = shuffle.dinuc_shuffled(seqs, 3, seed=7)
    assert len(out) == 18
    for i, seq in enumerate(seqs):
        shuffles = out[3 * i : 3 * i + 3]
        for shuf in shuffles:
            assert len(shuf) == len(seq) and _dinucs(shuf) == _dinucs(seq)
        assert any(s != seq for s in shuffles)
    assert out == shuffle.dinuc_shuffled(seqs, 3, seed=7)
    assert out != shuffle.dinuc_shuffled(seqs, 3, seed=8)


def test_chromosome_split_holds_out_chromosomes() -> None:
    chroms = np.array(["chr1", "chr2", "chr3", "chr1", "chr3", "chr4"])
    idx = splits.chromosome_split(chroms, ["chr2"], ["chr3", "chrX"])
    assert idx["train"].tolist() == [0, 3, 5] and idx["valid"].tolist() == [1]
    assert idx["test"].tolist() == [2, 4]
    assert not set(chroms[idx["train"]]) & {"chr2", "chr3"}
    with pytest.raises(InputError, match="both"):
        splits.chromosome_split(chroms, ["chr2"], ["chr2"])
    with pytest.raises(InputError, match="no training"):
        splits.chromosome_split(chroms, ["chr1", "chr2"], ["chr3", "chr4"])


def test_random_split_is_deterministic_partition() -> None:
    a = splits.random_split(1000, (0.7, 0.1, 0.2), seed=5)
    b = splits.random_split(1000, (0.7, 0.1, 0.2), seed=5)
    c = splits.random_split(1000, (0.7, 0.1, 0.2), seed=6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["test"], c["test"])
    assert [len(a[k]) for k in ("train", "valid", "test")] == [700, 100, 200]
    assert sorted(np.concatenate(list(a.values())).tolist()) == list(range(1000))
