"""One validation of a dataset's arrays, whatever its kind, before dataset.h5 is written.

Rules (each error is one line naming the source, split and task; ``InputError``):
- every split (train, valid, test) has at least one sequence, and x is (N, L, 4) with one L;
- labels are numbers (not strings), (N, T) with T >= 1 and the same T in every split, and finite
  (NaN/inf are counted and named);
- the task type is declared (``task_type`` of an h5 dataset) or inferred by one rule: every label in
  {0, 1} -> ``binary`` (``multi-label`` when T > 1). Other values are ``regression`` only when
  declared so; undeclared they are an error that names the values found (``{0, 2}`` is not silently
  a regression), and a declared binary/multilabel task must hold only 0 and 1;
- degenerate tasks: a task with one label value in the training split cannot be learned, and one
  with a single value in valid or test has no AUROC/correlation there; each is a warning (terminal,
  rule log, report banner), and an error when it holds for every task in the training split, where
  nothing sensible can be trained.

``validate_dataset`` is pure (arrays in, ``LabelCheck`` out), so the report recomputes the same
warnings from dataset.h5 (``validate_dataset_file``) instead of the prepare step storing them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .dataset import SPLITS, Dataset

TASK_TYPES = ("auto", "binary", "multilabel", "regression")
RULE = "inferred: every label is 0 or 1 (declare task_type: regression for continuous labels)"


@dataclass
class LabelCheck:
    """What validation found: the task type training uses, how it was decided, and the warnings."""

    task_type: str  # "binary" (one or several sigmoid outputs) or "regression"
    description: str  # e.g. "multi-label binary, 3 tasks (inferred: ...)"
    warnings: list[str] = field(default_factory=list)


def label_array(values: Any, where: str) -> np.ndarray:
    """Labels as float32, or one line saying they are not numbers (strings, objects)."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        kind = "strings" if values.dtype.kind in "SUO" else f"dtype {values.dtype}"
        example = values.ravel()[:3].tolist() if values.size else []
        raise InputError(f"{where}: labels are {kind} (e.g. {example}); expected numbers")
    return values.astype(np.float32)


def _values(values: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return "{" + shown + (f", ... ({len(values)} values)" if len(values) > limit else "") + "}"


def validate_dataset(dataset: Dataset, declared: str = "auto", source: str = "dataset") -> LabelCheck:
    """Check every split's x and y; raise InputError on what cannot train, return the task type and
    warnings otherwise (see the module's rules)."""
    if declared not in TASK_TYPES:
        raise InputError(f"{source}: task_type must be one of {', '.join(TASK_TYPES)}, got {declared!r}")
    tasks = list(dataset.tasks)
    n_tasks: set[int] = set()
    lengths: set[int] = set()
    uniques: dict[str, list[np.ndarray]] = {}
    for name in SPLITS:
        if name not in dataset.splits:
            raise InputError(f"{source}: split {name!r} is missing")
        split = dataset.splits[name]
        x, y = np.asarray(split.x), label_array(split.y, f"{source}: split {name!r}")
        if len(x) == 0:
            raise InputError(f"{source}: split {name!r} is empty (0 sequences); every split needs some")
        if x.ndim != 3 or x.shape[-1] != 4:
            raise InputError(f"{source}: split {name!r} x has shape {x.shape}; expected (N, L, 4)")
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise InputError(f"{source}: split {name!r} x has NaN or infinite values")
        lengths.add(int(x.shape[1]))
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or len(y) != len(x) or y.shape[1] == 0:
            raise InputError(f"{source}: split {name!r} labels have shape {y.shape}; expected ({len(x)}, T)")
        n_tasks.add(int(y.shape[1]))
        bad = ~np.isfinite(y)
        if bad.any():
            t = int(np.flatnonzero(bad.any(axis=0))[0])
            what = "NaN" if np.isnan(y).any() else "infinite"
            row = int(np.flatnonzero(bad[:, t])[0])
            raise InputError(
                f"{source}: split {name!r} has {int(bad.sum())} {what} label(s) (first in task "
                f"{_task(tasks, t)!r}, row {row}); labels must be finite numbers"
            )
        uniques[name] = [np.unique(y[:, t]) for t in range(y.shape[1])]
    if len(n_tasks) > 1 or len(lengths) > 1:
        raise InputError(
            f"{source}: splits disagree on the number of tasks {sorted(n_tasks)} or length {sorted(lengths)}"
        )
    n = n_tasks.pop()
    if tasks and len(tasks) != n:
        raise InputError(f"{source}: {len(tasks)} task names but labels have {n} columns")
    found = np.unique(np.concatenate([u for per_split in uniques.values() for u in per_split]))
    binary_values = bool(np.isin(found, (0.0, 1.0)).all())
    if declared == "regression":
        task_type, how = "regression", "declared"
    elif binary_values:
        task_type, how = "binary", "declared" if declared != "auto" else RULE
    elif declared == "auto":
        raise InputError(
            f"{source}: labels take the values {_values(found)}, not only 0 and 1: declare "
            "`task_type: regression` if they are continuous, or recode classes to 0/1"
        )
    else:
        raise InputError(f"{source}: task_type {declared} needs labels 0 and 1, found {_values(found)}")
    kind = "regression" if task_type == "regression" else ("multi-label binary" if n > 1 else "binary")
    check = LabelCheck(task_type, f"{kind}, {n} task(s) ({how})")
    dead: list[str] = []
    for name in SPLITS:
        for t, values in enumerate(uniques[name]):
            if len(values) > 1:
                continue
            label = f"task {_task(tasks, t)!r}: every {name} label is {values[0]:g}"
            if name == "train":
                dead.append(f"{label}, so the model cannot learn it")
                check.warnings.append(dead[-1])
            else:
                score = "AUROC/AUPR" if task_type == "binary" else "correlation"
                check.warnings.append(f"{label}, so its {name} {score} is undefined")
    if len(dead) == n:
        raise InputError(
            f"{source}: every task has a single label value in the training split ("
            + "; ".join(dead[:3])
            + "): nothing can be trained"
        )
    return check


def _task(tasks: list[str], t: int) -> str:
    return tasks[t] if t < len(tasks) else f"task{t}"


def validate_dataset_file(path: str | os.PathLike) -> LabelCheck:
    """The same validation recomputed from a written dataset.h5 (for the report's banner)."""
    from .dataset import read_dataset

    data = read_dataset(path, truth=False)
    return validate_dataset(data, declared=str(data.summary.get("task_type", "auto")), source=str(path))
