"""Quantitative window targets from bigWig signal (fold change, counts), one task per track.

Peak-level regression on the signal itself, as CREsted trains on ENCODE/ATAC coverage, instead of
bound/unbound labels: each window's target is the mean, sum or max of its track over a central span,
optionally log1p-transformed and z-scored per task with the training split's statistics (so the test
split never informs the scale). Bases a track does not cover count as 0 signal, as in a bigWig written
from coverage; the statistics are recorded in dataset.h5 so a prediction can be mapped back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .bigwig import open_bigwig

STATS = ("mean", "sum", "max")
NORMALISATIONS = ("zscore", "none")


def check_contigs(path: str | os.PathLike, chroms: Iterable[str], source: str = "peaks") -> dict[str, int]:
    """The track's contig sizes; fails in one line when it lacks a contig the windows lie on (a
    genome-build mismatch)."""
    handle = open_bigwig(path)
    try:
        have = handle.chroms()
    finally:
        handle.close()
    missing = sorted(set(chroms) - set(have))
    if missing:
        shown = ", ".join(missing[:3]) + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else "")
        raise InputError(
            f"{path}: signal bigWig has no contig {shown} of the {source} "
            f"(its contigs: {', '.join(sorted(have)[:5])}{', ...' if len(have) > 5 else ''})"
        )
    return dict(have)


def central_span(start: np.ndarray, end: np.ndarray, width: int | None) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of the central ``width`` bases of each window (the whole window when None or wider)."""
    start, end = np.asarray(start, np.int64), np.asarray(end, np.int64)
    if width is None:
        return start, end
    span = np.minimum(end - start, int(width))
    lo = start + (end - start - span) // 2
    return lo, lo + span


CHUNK = 1 << 16  # windows read at once (a (CHUNK, span) float32 matrix)


def window_targets(
    path: str | os.PathLike,
    windows: pd.DataFrame,
    stat: str = "mean",
    width: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """(N,) float64 ``stat`` of the track over each window's central span (uncovered bases are 0).

    The per-base values are read with figwig (tangermeme's bigWig reader: many windows per call,
    blocks inflated on ``threads`` threads, all available CPUs by default), ``CHUNK`` windows at a
    time; the header is checked first (:func:`check_contigs`).
    """
    import figwig

    if stat not in STATS:
        raise InputError(f"signal stat must be one of {', '.join(STATS)}, got {stat!r}")
    lo, hi = central_span(windows["start"].to_numpy(), windows["end"].to_numpy(), width)
    chroms = windows["chrom"].to_numpy(str)
    sizes = check_contigs(path, chroms.tolist(), source="windows")
    limit = np.array([sizes[c] for c in chroms.tolist()], dtype=np.int64)
    past = np.flatnonzero(hi > limit)
    if past.size:
        i = int(past[0])
        raise InputError(f"{path}: window {chroms[i]}:{lo[i]}-{hi[i]} runs past the track's end ({limit[i]})")
    reduce = {"mean": np.mean, "sum": np.sum, "max": np.max}[stat]
    accumulate = {} if stat == "max" else {"dtype": np.float64}  # float32 values, float64 sums
    jobs = threads or len(os.sched_getaffinity(0))
    reader = figwig.BigWigReader(str(path))
    out = np.zeros(len(windows), dtype=np.float64)
    spans = hi - lo
    for span in np.unique(spans):
        rows = np.flatnonzero(spans == span)
        for first in range(0, len(rows), CHUNK):
            part = rows[first : first + CHUNK]
            values = reader.read(chroms[part], lo[part], int(span), n_jobs=jobs, missing=0.0)
            out[part] = reduce(values, axis=1, **accumulate)
    return out


def normalise(
    y: np.ndarray, train: np.ndarray, log1p: bool, method: str, tasks: Sequence[str]
) -> tuple[np.ndarray, dict[str, dict[str, float]]]:
    """log1p (optional), then z-score each task with the mean and sd of the ``train`` rows; returns
    float32 targets and the per-task statistics that invert the transform."""
    if method not in NORMALISATIONS:
        raise InputError(f"signal normalise must be one of {', '.join(NORMALISATIONS)}, got {method!r}")
    y = np.asarray(y, dtype=np.float64)
    if log1p:
        if (y < 0).any():
            task = tasks[int(np.flatnonzero((y < 0).any(axis=0))[0])]
            raise InputError(
                f"signal {task!r} has negative values: log1p needs non-negative signal (set log1p: false)"
            )
        y = np.log1p(y)
    stats: dict[str, dict[str, float]] = {}
    for t, task in enumerate(tasks):
        mean, sd = (float(y[train, t].mean()), float(y[train, t].std())) if method == "zscore" else (0.0, 1.0)
        if method == "zscore" and sd == 0:
            raise InputError(f"signal {task!r} is constant over the training windows: nothing to regress")
        y[:, t] = (y[:, t] - mean) / sd
        stats[task] = {"log1p": bool(log1p), "mean": mean, "sd": sd}
    return y.astype(np.float32), stats


def signal_matrix(
    signal: Mapping[str, str], windows: pd.DataFrame, stat: str, width: int | None
) -> np.ndarray:
    """(N, tasks) raw targets, one column per track in ``signal``'s order."""
    columns = [window_targets(path, windows, stat, width) for path in signal.values()]
    return np.stack(columns, axis=1) if columns else np.zeros((len(windows), 0))
