"""Loading field-standard HDF5 datasets (x_train/y_train/...)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from cislens.data import onehot
from cislens.data.h5input import load_h5_dataset
from cislens.errors import InputError


def _onehot(n: int, length: int, seed: int) -> np.ndarray:
    return onehot.from_indices(np.random.default_rng(seed).integers(0, 4, (n, length)))


def _write(path: Path, keys: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as handle:
        for key, value in keys.items():
            handle.create_dataset(key, data=value)
    return path


@pytest.mark.parametrize("channels_first", [False, True])
def test_both_layouts_and_key_spellings(tmp_path: Path, channels_first: bool) -> None:
    xs = {s: _onehot(n, 30, i) for i, (s, n) in enumerate((("train", 20), ("valid", 5), ("test", 7)))}
    truth = np.full((7, 30, 4), 0.25, np.float32)
    truth[:, 3] = [0.7, 0.1, 0.1, 0.1]
    layout = onehot.to_channels_first if channels_first else (lambda a: a)
    keys = {
        "X_train": layout(xs["train"]),
        "Y_train": np.arange(20) % 2,
        "x_val": layout(xs["valid"]),
        "y_VAL": np.ones((5, 1)),
        "x_test": layout(xs["test"]),
        "y_test": np.zeros(7),
        "truth_test": layout(truth),
    }
    ds = load_h5_dataset(_write(tmp_path / "d.h5", keys), seed=3)
    assert ds.kind == "h5" and ds.seed == 3 and ds.tasks == ["task0"] and ds.length == 30
    for split, x in xs.items():
        assert np.array_equal(ds.splits[split].x, x)
    assert ds.splits["train"].y.shape == (20, 1) and ds.splits["train"].y[1, 0] == 1
    assert np.allclose(ds.splits["test"].truth, truth) and ds.splits["train"].truth is None


def test_ambiguous_length_four_is_rejected(tmp_path: Path) -> None:
    keys = {
        f"{k}_{s}": (_onehot(3, 4, 0) if k == "x" else np.zeros(3))
        for s in ("train", "valid", "test")
        for k in ("x", "y")
    }
    with pytest.raises(InputError, match="ambiguous"):
        load_h5_dataset(_write(tmp_path / "d.h5", keys))


def test_missing_key_names_file_and_key(tmp_path: Path) -> None:
    keys = {
        "x_train": _onehot(3, 10, 0),
        "y_train": np.zeros(3),
        "x_test": _onehot(3, 10, 1),
        "y_test": np.zeros(3),
        "x_valid": _onehot(2, 10, 2),
    }
    path = _write(tmp_path / "miss.h5", keys)
    with pytest.raises(InputError, match=r"miss\.h5: missing key 'y_valid'"):
        load_h5_dataset(path)


def test_non_onehot_values_and_bad_y_rejected(tmp_path: Path) -> None:
    good = {
        f"{k}_{s}": (_onehot(3, 10, 0) if k == "x" else np.zeros(3))
        for s in ("train", "valid", "test")
        for k in ("x", "y")
    }
    bad = dict(good, x_train=good["x_train"] * 2)
    with pytest.raises(InputError, match="x_train"):
        load_h5_dataset(_write(tmp_path / "a.h5", bad))
    soft = dict(good, x_valid=np.full_like(good["x_valid"], 0.25))
    with pytest.raises(InputError, match="x_valid is not one-hot"):
        load_h5_dataset(_write(tmp_path / "c.h5", soft))
    bad_y = dict(good, y_test=np.zeros(4))
    with pytest.raises(InputError, match="y_test"):
        load_h5_dataset(_write(tmp_path / "b.h5", bad_y))
