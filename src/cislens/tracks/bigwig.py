"""Window values -> sorted, non-overlapping bedGraph-like intervals -> a bigWig file
(:func:`cislens.data.bigwig.write_bigwig`).

The rule for windows that overlap on the genome: every base takes the mean of the values that the
windows covering it give it (a reverse-complement copy of a window is one more window: its values are
mapped back to the forward strand first, so the two strands are averaged). Runs of adjacent bases with
the same (float32, as bigWig stores it) value become one interval; bases no window covers have none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..data.bigwig import Intervals
from ..errors import InputError

CHUNK = 4096  # windows scattered per bincount (bounds the index arrays' memory)


def check_windows(
    chrom: np.ndarray, start: np.ndarray, end: np.ndarray, sizes: Mapping[str, int], source: str = "windows"
) -> None:
    """Every window on a chromosome of ``sizes`` and inside it; InputError names the first that is not."""
    unknown = sorted(set(chrom.tolist()) - set(sizes))
    if unknown:
        raise InputError(
            f"{source}: chromosome(s) {', '.join(unknown[:5])} not in the genome "
            f"(its chromosomes include {', '.join(list(sizes)[:5])})"
        )
    size = np.array([sizes[c] for c in chrom.tolist()], dtype=np.int64)
    bad = np.flatnonzero((start < 0) | (end <= start) | (end > size))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{source}: window {chrom[i]}:{start[i]}-{end[i]} is empty or outside the chromosome "
            f"(length {size[i]}); {bad.size} such window(s)"
        )


def forward_values(values: np.ndarray, strand: np.ndarray | None) -> np.ndarray:
    """(N, L) per-base values in forward-strand order: a '-' row's first value is its window's last base."""
    out = np.array(values, dtype=np.float64)
    if strand is not None:
        minus = np.asarray(strand).astype(str) == "-"
        out[minus] = out[minus, ::-1]
    return out


def window_intervals(
    chrom: Sequence[str] | np.ndarray,
    start: Sequence[int] | np.ndarray,
    end: Sequence[int] | np.ndarray,
    values: np.ndarray,
    sizes: Mapping[str, int],
    strand: Sequence[str] | np.ndarray | None = None,
) -> Intervals:
    """Intervals of per-window ``values``: (N,) one value over each window's [start, end), or (N, L) one
    per base (L == end - start; on the window's ``strand``). Overlaps are averaged base by base."""
    chrom = np.asarray(chrom).astype(str)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if not len(chrom) == len(start) == len(end) == len(values):
        raise ValueError("chrom, start, end and values must have one row per window")
    check_windows(chrom, start, end, sizes)
    per_base = values.ndim == 2
    if per_base:
        if np.any(end - start != values.shape[1]):
            raise InputError(f"per-base values of width {values.shape[1]} do not match the windows' widths")
        values = forward_values(values, strand)
    elif values.ndim != 1:
        raise ValueError(f"values must be (N,) or (N, L), not {values.shape}")
    parts = []
    for name in sizes:
        rows = np.flatnonzero(chrom == name)
        if rows.size:
            rows = rows[np.argsort(start[rows], kind="stable")]
            parts.append((name, *_chromosome(start[rows], end[rows], values[rows], per_base)))
    if not parts:
        empty = np.zeros(0, np.int64)
        return Intervals(np.zeros(0, dtype=str), empty, empty, np.zeros(0, np.float32))
    return Intervals(
        chrom=np.concatenate([np.full(len(p[1]), p[0]) for p in parts]),
        start=np.concatenate([p[1] for p in parts]),
        end=np.concatenate([p[2] for p in parts]),
        value=np.concatenate([p[3] for p in parts]),
    )


def _chromosome(
    start: np.ndarray, end: np.ndarray, values: np.ndarray, per_base: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, float32 values) of one chromosome's windows, sorted by start."""
    reach = np.maximum.accumulate(end)
    new = np.ones(len(start), dtype=bool)
    new[1:] = start[1:] > reach[:-1]  # a gap: the next cluster of overlapping (or touching) windows
    cluster = np.cumsum(new) - 1
    c_start = start[new]
    c_end = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(start) - 1]]
    c_len = c_end - c_start
    c_base = np.concatenate([[0], np.cumsum(c_len)[:-1]])  # each cluster's offset in one dense array
    total = int(c_len.sum())
    sums = np.zeros(total)
    counts = np.zeros(total)
    first = c_base[cluster] + start - c_start[cluster]  # dense index of each window's first base
    length = end - start
    for lo in range(0, len(start), CHUNK):
        part = slice(lo, lo + CHUNK)
        n = length[part]
        before = np.cumsum(n) - n
        index = np.repeat(first[part] - before, n) + np.arange(int(n.sum()))
        weights = values[part].ravel() if per_base else np.repeat(values[part], n)
        sums += np.bincount(index, weights=weights, minlength=total)
        counts += np.bincount(index, minlength=total)
    mean = (sums / counts).astype(np.float32)  # every base of a cluster is covered
    position = np.repeat(c_start - c_base, c_len) + np.arange(total)
    run = np.ones(total, dtype=bool)
    run[1:] = (mean[1:] != mean[:-1]) | (position[1:] != position[:-1] + 1)
    first_base = np.flatnonzero(run)
    last_base = np.r_[first_base[1:], total] - 1
    return position[first_base], position[last_base] + 1, mean[first_base]
