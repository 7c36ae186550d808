"""No silent wrong labels, no raw tracebacks for our own damaged outputs (issue 21, items 2 and 3).

Each label defect of a ``kind: h5`` dataset fails at prepare in one line (or is a warning where a
model can still be trained), and the task type is decided by the stated rule, never switched by the
values; a truncated dataset.h5 or model.keras says "corrupt or truncated: delete it and rerun".
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np
import pytest

from cislens.data.dataset import read_dataset, read_info, read_split, write_dataset
from cislens.data.prepare import build
from cislens.data.validate import validate_dataset, validate_dataset_file
from cislens.errors import InputError

N, L = 12, 20


def _x(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, L))]


def _labels(n: int, tasks: int = 1) -> np.ndarray:
    return ((np.arange(n)[:, None] + np.arange(tasks)) % 2).astype(np.float32)


def _h5(path: Path, y: dict[str, np.ndarray] | None = None, n: dict[str, int] | None = None) -> Path:
    n = n or {}
    y = y or {}
    with h5py.File(path, "w") as handle:
        for i, split in enumerate(("train", "valid", "test")):
            size = n.get(split, N)
            handle[f"x_{split}"] = _x(size, i)
            handle[f"y_{split}"] = y.get(split, _labels(size))
    return path


def _prepare(path: Path, **extra) -> object:
    return build({"kind": "h5", "path": str(path), "seed": 0, **extra}, {"h5": str(path)}, "work")


def test_clean_binary_dataset_prints_its_task_type(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="cislens"):
        data = _prepare(_h5(tmp_path / "d.h5"))
    assert data.summary["task_type"] == "binary"
    assert "task type: binary, 1 task(s) (inferred: every label is 0 or 1" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_all_zero_training_labels_fail(tmp_path: Path) -> None:
    path = _h5(tmp_path / "d.h5", y={"train": np.zeros((N, 1), np.float32)})
    with pytest.raises(InputError, match=r"every train label is 0.*nothing can be trained") as err:
        _prepare(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_one_dead_task_of_several_is_a_warning(tmp_path: Path, caplog) -> None:
    y = {s: _labels(N, 2) for s in ("train", "valid", "test")}
    y["train"][:, 1] = 0
    y["test"][:, 0] = 1
    with caplog.at_level(logging.INFO, logger="cislens"):
        data = _prepare(_h5(tmp_path / "d.h5", y=y))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "task 'task1': every train label is 0, so the model cannot learn it",
        "task 'task0': every test label is 1, so its test AUROC/AUPR is undefined",
    ]
    assert "multi-label binary, 2 task(s)" in caplog.text
    # The report recomputes the same warnings from the written file.
    write_dataset(tmp_path / "dataset.h5", data)
    assert validate_dataset_file(tmp_path / "dataset.h5").warnings == warnings


def test_labels_0_2_are_an_error_unless_regression_is_declared(tmp_path: Path) -> None:
    y = {s: 2 * _labels(N) for s in ("train", "valid", "test")}
    path = _h5(tmp_path / "d.h5", y=y)
    with pytest.raises(
        InputError, match=r"take the values \{0, 2\}, not only 0 and 1: declare `task_type: regression`"
    ):
        _prepare(path)
    with pytest.raises(InputError, match=r"task_type binary needs labels 0 and 1, found \{0, 2\}"):
        _prepare(path, task_type="binary")
    data = _prepare(path, task_type="regression")
    assert data.summary["task_type"] == "regression"


def test_declared_regression_on_0_1_labels_stays_regression_through_the_file(tmp_path: Path) -> None:
    data = _prepare(_h5(tmp_path / "d.h5"), task_type="regression")
    write_dataset(tmp_path / "dataset.h5", data)
    assert read_dataset(tmp_path / "dataset.h5").summary["task_type"] == "regression"  # what training uses


def test_nan_labels_fail_naming_nan(tmp_path: Path) -> None:
    y = _labels(N)
    y[3, 0] = np.nan
    with pytest.raises(
        InputError, match=r"split 'valid' has 1 NaN label\(s\) \(first in task 'task0', row 3\)"
    ):
        _prepare(_h5(tmp_path / "d.h5", y={"valid": y}))


def test_string_labels_fail_in_one_line(tmp_path: Path) -> None:
    strings = np.array([b"yes", b"no"] * (N // 2))
    path = _h5(tmp_path / "d.h5", y={"train": strings})
    with pytest.raises(InputError, match=r"d\.h5: y_train: labels are strings"):
        _prepare(path)


def test_empty_split_fails(tmp_path: Path) -> None:
    path = _h5(tmp_path / "d.h5", n={"valid": 0}, y={"valid": np.zeros((0, 1), np.float32)})
    with pytest.raises(InputError, match=r"split 'valid' is empty"):
        _prepare(path)


def test_synthetic_labels_pass_as_binary() -> None:
    from cislens.data.dataset import Dataset, Split

    splits = {s: Split(x=_x(N), y=_labels(N, 3)) for s in ("train", "valid", "test")}
    check = validate_dataset(Dataset(splits=splits, tasks=["a", "b", "c"], kind="synthetic_multitask"))
    assert check.task_type == "binary" and check.warnings == []


def test_truncated_dataset_h5_says_delete_and_rerun(tmp_path: Path) -> None:
    data = _prepare(_h5(tmp_path / "d.h5"))
    path = tmp_path / "dataset.h5"
    write_dataset(path, data)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    for reader in (read_info, lambda p: read_split(p, "test"), read_dataset):
        with pytest.raises(InputError) as err:
            reader(path)
        assert str(err.value) == f"{path}: corrupt or truncated: delete it and rerun"


def test_corrupt_model_keras_says_delete_and_rerun(tmp_path: Path) -> None:
    import keras

    from cislens.models.zoo import load_model

    path = tmp_path / "model.keras"
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.save(path)
    good = path.read_bytes()
    for blob in (good[: len(good) // 2], good[:-10], b""):
        path.write_bytes(blob)
        with pytest.raises(InputError) as err:
            load_model(path)
        assert str(err.value) == f"{path}: corrupt or truncated: delete it and rerun"


def test_report_shows_a_banner_for_degenerate_tasks(tmp_path: Path) -> None:
    from cislens.report.genomics_page import dataset_section

    y = {s: _labels(N, 2) for s in ("train", "valid", "test")}
    y["train"][:, 1] = 0
    write_dataset(tmp_path / "dataset.h5", _prepare(_h5(tmp_path / "d.h5", y=y)))
    body = dataset_section(tmp_path / "dataset.h5").body
    assert "Degenerate labels" in body and "every train label is 0, so the model cannot learn it" in body
    assert "task type multi-label binary, 2 task(s)" in body
    y["train"][:, 1] = y["train"][:, 0]
    write_dataset(tmp_path / "clean.h5", _prepare(_h5(tmp_path / "c.h5", y=y)))
    assert "Degenerate labels" not in dataset_section(tmp_path / "clean.h5").body


def test_prepare_warnings_reach_the_terminal_and_the_log(tmp_path: Path, capfd) -> None:
    from types import SimpleNamespace

    from cislens.runlog import logged

    y = {s: _labels(N, 2) for s in ("train", "valid", "test")}
    y["train"][:, 1] = 0
    path = _h5(tmp_path / "d.h5", y=y)
    log = tmp_path / "prepare.log"
    with logged(SimpleNamespace(log=[str(log)], rule="prepare", wildcards={"dataset": "d"})):
        _prepare(path)
    line = "every train label is 0, so the model cannot learn it"
    assert line in log.read_text() and "task type: multi-label binary" in log.read_text()
    assert capfd.readouterr().err.strip() == f"cislens warning: task 'task1': {line}"
