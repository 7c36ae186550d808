"""Load an HDF5 dataset shared the field's way (x_train/y_train/x_valid/... keys) into a Dataset.

Published benchmark files disagree on key case ("X_train"), the name of the validation split
("valid"/"val"/"validation") and layout ((N, 4, L) for PyTorch/tangermeme, (N, L, 4) for Keras), so all
of those are accepted; anything else fails with the file and key named.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from ..errors import InputError
from .dataset import SPLITS, Dataset, Split
from .validate import label_array

_SPLIT_ALIASES = {
    "train": ("train", "tr"),
    "valid": ("valid", "val", "validation", "va"),
    "test": ("test", "te"),
}
_TRUTH_PREFIXES = ("truth", "model", "ground_truth", "pwm", "ppm")


def _keys(handle: h5py.File) -> dict[str, str]:
    """Lower-case key -> actual key for every top-level dataset."""
    return {k.lower(): k for k in handle if isinstance(handle[k], h5py.Dataset)}


def _find(keys: dict[str, str], prefixes: tuple[str, ...], split: str) -> str | None:
    for prefix in prefixes:
        for alias in _SPLIT_ALIASES[split]:
            for sep in ("_", ""):
                key = f"{prefix}{sep}{alias}"
                if key in keys:
                    return keys[key]
    return None


def to_channels_last(x: np.ndarray, path: str | os.PathLike, key: str) -> np.ndarray:
    """(N, 4, L) or (N, L, 4) -> (N, L, 4), deciding by which axis of size 4 sums to 1 per position."""
    if x.ndim != 3 or 4 not in x.shape[1:]:
        raise InputError(f"{path}: {key} has shape {x.shape}; expected (N, 4, L) or (N, L, 4)")
    if x.shape[1] == 4 and x.shape[2] == 4:
        raise InputError(f"{path}: {key} has shape {x.shape}; with length 4 the layout is ambiguous")
    x = x if x.shape[2] == 4 else np.swapaxes(x, 1, 2)
    x = np.ascontiguousarray(x)
    if len(x) and (np.nanmin(x) < -1e-6 or np.nanmax(x) > 1 + 1e-6 or np.isnan(x).any()):
        raise InputError(f"{path}: {key} has values outside [0, 1]; expected one-hot or probabilities")
    sums = x.sum(axis=-1)
    if len(x) and not np.all((np.abs(sums - 1) < 1e-3) | (sums == 0)):
        raise InputError(f"{path}: {key} rows do not sum to 1 (or 0 for N) along the base axis")
    return x


def load_h5_dataset(path: str | os.PathLike, *, seed: int = 0) -> Dataset:
    """Read x/y (and optional truth) for train/valid/test into a Dataset of kind "h5"."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: HDF5 dataset does not exist")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise InputError(f"{path}: not a readable HDF5 file ({err})") from None
    splits: dict[str, Split] = {}
    with handle:
        keys = _keys(handle)
        for split in SPLITS:
            x_key = _find(keys, ("x",), split)
            y_key = _find(keys, ("y",), split)
            for name, key in (("x", x_key), ("y", y_key)):
                if key is None:
                    raise InputError(
                        f"{path}: missing key '{name}_{split}' (any case; 'valid' may be "
                        f"spelled 'val'/'validation'); found {sorted(handle)}"
                    )
            x = to_channels_last(np.asarray(handle[x_key][()], dtype=np.float32), path, x_key)
            if len(x) and not np.isin(x, (0.0, 1.0)).all():
                # dataset.h5 stores x as exact uint8 one-hot; soft inputs would silently become N.
                raise InputError(f"{path}: {x_key} is not one-hot (values other than 0 and 1)")
            y = label_array(handle[y_key][()], f"{path}: {y_key}")  # strings fail in one line
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2 or len(y) != len(x):
                raise InputError(
                    f"{path}: {y_key} has shape {y.shape}; expected ({len(x)},) or ({len(x)}, T)"
                )
            truth = None
            t_key = _find(keys, _TRUTH_PREFIXES, split)
            if t_key is not None:
                truth = to_channels_last(np.asarray(handle[t_key][()], dtype=np.float32), path, t_key)
                if truth.shape != x.shape:
                    raise InputError(f"{path}: {t_key} has shape {truth.shape} but {x_key} is {x.shape}")
            splits[split] = Split(x=x, y=y, truth=truth)
    n_tasks = {s.y.shape[1] for s in splits.values()}
    lengths = {s.x.shape[1] for s in splits.values() if len(s)}
    if len(n_tasks) > 1 or len(lengths) > 1:
        raise InputError(
            f"{path}: splits disagree on number of tasks {sorted(n_tasks)} or length {sorted(lengths)}"
        )
    t = n_tasks.pop()
    summary = {
        "source": str(path),
        "split_sizes": {k: len(v) for k, v in splits.items()},
        "has_truth": all(s.truth is not None for s in splits.values()),
    }
    return Dataset(splits=splits, tasks=[f"task{i}" for i in range(t)], kind="h5", seed=seed, summary=summary)
