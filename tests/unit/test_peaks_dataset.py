"""Peak files + genome -> Dataset: labels, splits, negatives, determinism, real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cislens.data import onehot
from cislens.data.dataset import write_dataset
from cislens.data.peaks_dataset import build_peaks_dataset
from cislens.errors import InputError

from ..conftest import REALDATA, write_fasta


def _genome(tmp_path: Path, n_chroms: int = 3, length: int = 20_000) -> Path:
    rng = np.random.default_rng(0)
    records = {}
    for c in range(n_chroms):
        seq = "".join(rng.choice(list("ACGT"), size=length))
        if c == 0:
            seq = seq[:5000] + "N" * 400 + seq[5400:]
        records[f"chr{c + 1}"] = seq
    records["chrM"] = "ACGT" * 100
    return write_fasta(tmp_path / "g.fa", records, width=70)


def _peaks(tmp_path: Path, name: str, rows: list[tuple]) -> str:
    path = tmp_path / f"{name}.narrowPeak"
    lines = ["track type=narrowPeak"]
    for i, (c, s, e, summit) in enumerate(rows):
        lines.append(f"{c}\t{s}\t{e}\t{name}_{i}\t10\t.\t1\t1\t1\t{summit}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _files(tmp_path: Path) -> dict[str, str]:
    a_rows = [(f"chr{1 + i % 3}", 1000 + 600 * i, 1300 + 600 * i, 150) for i in range(30)]
    # N-rich, off the chromosome start, mitochondrial
    a_rows += [("chr1", 5100, 5300, 100), ("chr2", 10, 100, 45), ("chrM", 10, 200, 50)]
    b_rows = [(c, s + 50, e + 50, 100) for c, s, e, _ in a_rows[:5]]  # same windows as A_0..A_4
    b_rows += [(c, s + 60, e + 60, 100) for c, s, e, _ in a_rows[5:10]]  # overlap A_5..A_9
    b_rows += [("chr3", 18_900 + 150 * i, 19_000 + 150 * i, 50) for i in range(5)]
    return {"A": _peaks(tmp_path, "A", a_rows), "B": _peaks(tmp_path, "B", b_rows)}


def test_multitask_labels_filters_and_summary(tmp_path: Path) -> None:
    ds = build_peaks_dataset(
        _files(tmp_path),
        str(_genome(tmp_path)),
        str(tmp_path / "work"),
        width=200,
        negatives="none",
        test_chroms=["chr3"],
        valid_chroms=["chr2"],
    )
    s = ds.summary
    assert ds.kind == "peaks" and ds.tasks == ["A", "B"]
    assert s["peaks_read"] == {"A": 33, "B": 15}
    assert s["dropped_excluded_chroms"] == {"A": 1, "B": 0}
    assert s["dropped_off_chrom"] == 1 and s["dropped_n_rich"] == 1
    train = ds.splits["train"]
    assert train.x.dtype == np.uint8 and train.x.shape[1:] == (200, 4) and train.y.shape[1] == 2
    by_name = dict(
        zip(
            np.concatenate([sp.name for sp in ds.splits.values()]),
            np.concatenate([sp.y for sp in ds.splits.values()]),
            strict=True,
        )
    )
    assert by_name["A_0"].tolist() == [1, 1] and "B_0" not in by_name  # identical windows merged
    assert s["duplicates_merged"] == 5
    assert by_name["A_5"].tolist() == [1, 1] and by_name["B_5"].tolist() == [1, 1]  # overlap rule
    assert by_name["A_20"].tolist() == [1, 0] and by_name["B_12"].tolist() == [0, 1]
    assert s["multi_label_windows"] == 15
    assert set(ds.splits["test"].chrom) == {"chr3"} and set(ds.splits["valid"].chrom) == {"chr2"}
    assert set(train.chrom) == {"chr1"}
    assert all((sp.end - sp.start == 200).all() for sp in ds.splits.values())


def test_missing_contig_fails_before_sequence_work(tmp_path: Path) -> None:
    bad = _peaks(tmp_path, "bad", [("chr1", 100, 300, 50), ("chr9", 100, 300, 50)])
    with pytest.raises(InputError, match=r"bad\.narrowPeak: contig 'chr9'"):
        build_peaks_dataset({"bad": bad}, str(_genome(tmp_path)), str(tmp_path / "work"))


@pytest.mark.parametrize("mode", ["gc_matched", "dinuc_shuffle"])
def test_deterministic_and_byte_identical(tmp_path: Path, mode: str) -> None:
    files, fa = _files(tmp_path), str(_genome(tmp_path))
    kwargs = {"negatives": mode, "reverse_complement": True, "seed": 4}
    one = build_peaks_dataset(files, fa, str(tmp_path / "w1"), **kwargs)
    two = build_peaks_dataset(files, fa, str(tmp_path / "w2"), **kwargs)
    for name in one.splits:
        a, b = one.splits[name], two.splits[name]
        assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and np.array_equal(a.name, b.name)
    write_dataset(tmp_path / "one.h5", one)
    write_dataset(tmp_path / "two.h5", two)
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "two.h5").read_bytes()
    n_pos = one.summary["positives"]
    assert one.summary["negatives_made"] == n_pos
    total = sum(len(sp) for sp in one.splits.values())
    assert total == 2 * 2 * n_pos  # negatives 1:1, then reverse-complement doubling
    train = one.splits["train"]
    half = len(train) // 2
    assert (train.strand[:half] == "+").all() and (train.strand[half:] == "-").all()
    assert np.array_equal(train.x[half:], onehot.reverse_complement(train.x[:half]))


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata not present")
def test_yeast_atac_real_data(tmp_path: Path) -> None:
    ds = build_peaks_dataset(
        {"atac": str(REALDATA / "yeast_atac_hmmratac.narrowPeak")},
        str(REALDATA / "sacCer3.fa.gz"),
        str(tmp_path / "work"),
        test_chroms=["chrXVI"],
        valid_chroms=["chrXV"],
        seed=1,
    )
    s = ds.summary
    assert s["peaks_read"] == {"atac": 1605} and s["dropped_excluded_chroms"]["atac"] > 0  # chrM peaks
    assert set(ds.splits["test"].chrom) == {"chrXVI"} and set(ds.splits["valid"].chrom) == {"chrXV"}
    train_chroms = set(ds.splits["train"].chrom)
    assert not train_chroms & {"chrXV", "chrXVI", "chrM"}
    for name, sp in ds.splits.items():
        assert 0.4 < sp.y.mean() < 0.6, name  # GC-matched negatives 1:1
        assert (sp.x.sum(axis=(1, 2)) >= 180).all()
    # no test window overlaps a train window
    test, train = ds.splits["test"], ds.splits["train"]
    assert not set(zip(test.chrom, test.start, strict=True)) & set(zip(train.chrom, train.start, strict=True))


def test_empty_split_and_no_negatives_fail_with_one_line(tmp_path: Path) -> None:
    files = _files(tmp_path)
    with pytest.raises(InputError, match="the valid split is empty"):
        build_peaks_dataset(
            files, str(_genome(tmp_path)), str(tmp_path / "w1"), valid_chroms=["chrX"], test_chroms=["chr3"]
        )
    only_a = {"A": files["A"]}
    with pytest.raises(InputError, match="no task has both classes"):
        build_peaks_dataset(
            only_a,
            str(_genome(tmp_path)),
            str(tmp_path / "w2"),
            negatives="none",
            valid_chroms=["chr2"],
            test_chroms=["chr3"],
        )
