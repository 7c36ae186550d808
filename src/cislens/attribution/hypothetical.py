"""Hypothetical contributions: for every base at every position, what it would contribute had it been
observed (N, L, 4). TF-MoDISco clusters seqlets on them (Shrikumar et al. 2018, arXiv:1811.00416);
times the one-hot input they give the ordinary attribution map.

Sources, each read from one attribution method:

- ``saliency``: the corrected gradient (per-position mean over A, C, G, T removed; Majdandzic et al.
  2023), so the map lies on the one-hot simplex;
- ``deep_lift_shap``: DeepLIFT multipliers against dinucleotide-shuffled references, m - sum(m ref)
  (multipliers, not multiplier x input);
- ``integrated_gradients``: the path-averaged, corrected gradient, g - sum(g baseline);
- ``ism``: substitution deltas centred on their per-position mean, so the observed base carries minus
  the mean effect of mutating it.

Ensembling (:func:`ensemble`) averages sources over a variant's trials and, optionally, the forward
and reverse-complement passes, as labs average across folds before discovery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import InputError

SOURCES = ("saliency", "deep_lift_shap", "integrated_gradients", "ism")


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise InputError(f"unknown hypothetical-contribution source {source!r} (known: {', '.join(SOURCES)})")


def hypothetical_contributions(
    model: Any,
    x: np.ndarray,
    source: str,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    options: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> np.ndarray:
    """(N, L, 4) float32 hypothetical contributions of ``source`` for the one-hot ``x``.

    ``options`` are the method's keywords (``attribution.options.<method>``: references, steps, ...).
    """
    from .methods import METHODS

    check_source(source)
    kwargs = {"target": target, "task": task, "progress": progress, **dict(options or {})}
    fn = METHODS[source]
    if source == "saliency":
        out = fn(model, x, correct=True, **kwargs)
    elif source == "deep_lift_shap":
        out = fn(model, x, hypothetical=True, **kwargs)
    elif source == "integrated_gradients":
        out = fn(model, x, correct=True, hypothetical=True, **kwargs)
    else:
        delta = fn(model, x, **kwargs)
        out = delta - delta.mean(axis=-1, keepdims=True)
    return np.asarray(out, dtype=np.float32)


def reverse_complement(x: np.ndarray) -> np.ndarray:
    """(N, L, 4) in ACGT order read on the other strand: both axes flipped."""
    return np.ascontiguousarray(np.asarray(x)[:, ::-1, ::-1])


def ensemble(
    compute: Callable[[Any, np.ndarray, np.ndarray | int | None], np.ndarray],
    models: Iterable[Any],
    x: np.ndarray,
    task: np.ndarray | int | None,
    *,
    both_strands: bool = False,
) -> np.ndarray:
    """Mean of ``compute(model, x, task)`` over ``models`` (and over both strands when asked: the
    reverse-complement pass is mapped back onto the forward strand before averaging)."""
    total: np.ndarray | None = None
    count = 0
    for model in models:
        passes = [compute(model, x, task)]
        if both_strands:
            passes.append(reverse_complement(compute(model, reverse_complement(x), task)))
        for hyp in passes:
            total = hyp.astype(np.float64) if total is None else total + hyp
            count += 1
    if total is None:
        raise InputError("no models to ensemble")
    return (total / count).astype(np.float32)
