"""The dataset file every stage reads: ``results/{dataset}/dataset.h5``.

Layout (one group per split; arrays in the Keras layout):
    /{split}/x       uint8  (N, L, 4)  one-hot, ACGT
    /{split}/y       float32 (N, T)    labels (binary or continuous)
    /{split}/truth   float32 (N, L, 4) position probability matrix, only when ground truth is known
    /{split}/chrom, /{split}/start, /{split}/end, /{split}/strand   genomic coordinates, when known
    /{split}/name    bytes   per-sequence identifier
    attrs: tasks (T names), kind, seed, length, summary (JSON: counts, dropped and why)

Files are written without timestamps and with deterministic compression so that the same
inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from ..errors import InputError, corrupt_output
from ..io import atomic_path

SPLITS = ("train", "valid", "test")
_COORD_FIELDS = ("chrom", "start", "end", "strand", "name")


@dataclass
class Split:
    """One split's arrays; coordinate columns are optional (synthetic data has none)."""

    x: np.ndarray
    y: np.ndarray
    truth: np.ndarray | None = None
    chrom: np.ndarray | None = None
    start: np.ndarray | None = None
    end: np.ndarray | None = None
    strand: np.ndarray | None = None
    name: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Dataset:
    """All splits plus metadata."""

    splits: dict[str, Split]
    tasks: list[str]
    kind: str
    seed: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return int(self.splits["train"].x.shape[1])


def _create(group: h5py.Group, key: str, values: np.ndarray) -> None:
    values = np.asarray(values)
    if values.dtype.kind == "U":  # UTF-8, so peak names with any characters survive
        values = np.array([v.encode("utf-8") for v in values.ravel()], dtype=object).reshape(values.shape)
        values = values.astype(h5py.string_dtype("utf-8")) if values.size else values.astype("S1")
    kwargs: dict[str, Any] = {"track_times": False}
    if values.ndim >= 2 and values.size > 0:
        kwargs.update(compression="gzip", compression_opts=4, shuffle=True)
    group.create_dataset(key, data=values, **kwargs)


def write_dataset(path: str | os.PathLike, dataset: Dataset) -> None:
    """Write atomically; x is stored as uint8 one-hot (exact, 4x smaller than float32)."""
    lengths = {s.x.shape[1] for s in dataset.splits.values() if len(s)}
    if len(lengths) > 1:
        raise ValueError(f"splits have different sequence lengths: {sorted(lengths)}")
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=False) as handle:
            handle.attrs["tasks"] = np.array(dataset.tasks, dtype="S")
            handle.attrs["kind"] = dataset.kind
            handle.attrs["seed"] = int(dataset.seed)
            handle.attrs["length"] = int(next(iter(lengths)) if lengths else 0)
            handle.attrs["summary"] = json.dumps(dataset.summary, sort_keys=True, default=_default)
            for split_name in SPLITS:
                split = dataset.splits[split_name]
                group = handle.create_group(split_name)
                _create(group, "x", np.asarray(split.x).astype(np.uint8))
                _create(group, "y", np.asarray(split.y, dtype=np.float32).reshape(len(split), -1))
                if split.truth is not None:
                    _create(group, "truth", np.asarray(split.truth, dtype=np.float32))
                for key in _COORD_FIELDS:
                    values = getattr(split, key)
                    if values is not None:
                        _create(group, key, values)


@contextlib.contextmanager
def open_output_h5(path: str | os.PathLike) -> Iterator[h5py.File]:
    """Open an HDF5 file this workflow wrote (dataset.h5, attribution maps) for reading; a truncated
    or damaged file, or one missing what we write, fails in one line: corrupt or truncated, delete
    it and rerun. A missing file says so."""
    if not os.path.exists(path):
        raise InputError(f"{path}: does not exist")
    try:
        with h5py.File(path, "r") as handle:
            yield handle
    except (OSError, KeyError, RuntimeError, json.JSONDecodeError) as err:
        raise corrupt_output(path) from err


def read_split(path: str | os.PathLike, split: str, truth: bool = True) -> Split:
    """Read one split; x comes back as float32 (N, L, 4)."""
    with open_output_h5(path) as handle:
        group = handle[split]
        kwargs: dict[str, Any] = {
            "x": group["x"][()].astype(np.float32),
            "y": group["y"][()],
        }
        if truth and "truth" in group:
            kwargs["truth"] = group["truth"][()]
        for key in _COORD_FIELDS:
            if key in group:
                values = group[key][()]
                if values.dtype.kind in "SO":
                    values = np.array([v.decode("utf-8") for v in values.ravel()], dtype=str)
                kwargs[key] = values
        return Split(**kwargs)


def read_dataset(path: str | os.PathLike, truth: bool = True) -> Dataset:
    """Read every split and the metadata."""
    info = read_info(path)
    splits = {name: read_split(path, name, truth=truth) for name in SPLITS}
    return Dataset(
        splits=splits, tasks=info["tasks"], kind=info["kind"], seed=info["seed"], summary=info["summary"]
    )


def read_info(path: str | os.PathLike) -> dict[str, Any]:
    """Metadata and split sizes without loading arrays."""
    with open_output_h5(path) as handle:
        return {
            "tasks": [t.decode() for t in handle.attrs["tasks"]],
            "kind": str(handle.attrs["kind"]),
            "seed": int(handle.attrs["seed"]),
            "length": int(handle.attrs["length"]),
            "summary": json.loads(handle.attrs["summary"]),
            "sizes": {name: int(handle[name]["x"].shape[0]) for name in SPLITS},
            "has_truth": all("truth" in handle[name] for name in SPLITS),
        }


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(type(value).__name__)
