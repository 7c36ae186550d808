"""One-hot helpers, the dataset file format and atomic writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from cislens.data import onehot
from cislens.data.dataset import Dataset, Split, read_dataset, read_info, write_dataset
from cislens.io import atomic_open, atomic_path


def test_one_hot_round_trip_and_layouts() -> None:
    seqs = ["ACGTN", "ttgca"]
    x = onehot.one_hot(seqs)
    assert x.shape == (2, 5, 4) and x.dtype == np.float32
    assert x[0, 4].sum() == 0  # N is all zeros
    assert onehot.decode(x) == ["ACGTN", "TTGCA"]
    first = onehot.to_channels_first(x)
    assert first.shape == (2, 4, 5)
    np.testing.assert_array_equal(onehot.to_channels_last(first), x)
    assert onehot.decode(onehot.reverse_complement(x)) == ["NACGT", "TGCAA"]
    np.testing.assert_array_equal(onehot.from_indices(onehot.indices(x)), x)
    np.testing.assert_allclose(onehot.gc_content(onehot.one_hot(["GGCA"])), [0.75])


def test_one_hot_rejects_ragged() -> None:
    with pytest.raises(ValueError, match="equal length"):
        onehot.one_hot(["ACG", "AC"])


def _dataset(seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in (("train", 30), ("valid", 5), ("test", 8)):
        x = onehot.from_indices(rng.integers(0, 4, size=(n, 50)))
        splits[name] = Split(
            x=x,
            y=rng.integers(0, 2, size=(n, 2)).astype(np.float32),
            truth=np.full((n, 50, 4), 0.25, np.float32),
            chrom=np.array(["chr1"] * n),
            start=np.arange(n) * 100,
            end=np.arange(n) * 100 + 50,
        )
    return Dataset(splits=splits, tasks=["a", "b"], kind="test", seed=seed, summary={"dropped": 3})


def test_dataset_round_trip(tmp_path: Path) -> None:
    data = _dataset(0)
    write_dataset(tmp_path / "d.h5", data)
    back = read_dataset(tmp_path / "d.h5")
    assert back.tasks == ["a", "b"] and back.summary == {"dropped": 3} and back.length == 50
    for name in ("train", "valid", "test"):
        np.testing.assert_array_equal(back.splits[name].x, data.splits[name].x)
        np.testing.assert_array_equal(back.splits[name].y, data.splits[name].y)
        assert list(back.splits[name].chrom) == list(data.splits[name].chrom)
    info = read_info(tmp_path / "d.h5")
    assert info["sizes"] == {"train": 30, "valid": 5, "test": 8} and info["has_truth"]


def test_dataset_files_are_byte_identical(tmp_path: Path) -> None:
    write_dataset(tmp_path / "a.h5", _dataset(1))
    write_dataset(tmp_path / "b.h5", _dataset(1))
    digest = [hashlib.sha256((tmp_path / f).read_bytes()).hexdigest() for f in ("a.h5", "b.h5")]
    assert digest[0] == digest[1]
    write_dataset(tmp_path / "c.h5", _dataset(2))
    assert hashlib.sha256((tmp_path / "c.h5").read_bytes()).hexdigest() != digest[0]


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out" / "table.tsv"
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half a table")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []
    with atomic_path(tmp_path / "model.keras") as tmp:
        assert tmp.suffix == ".keras" and tmp.name.startswith(".")
        tmp.write_text("ok")
    assert (tmp_path / "model.keras").read_text() == "ok"
