"""bigWig files: opening one with a one-line error, and writing bedGraph-like intervals atomically with
the genome's chromosome sizes as header (pyBigWig). Both the synthetic genome's signal track and the
genome-browser tracks are written here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..io import atomic_path

ENTRIES = 1 << 20  # intervals handed to pyBigWig per call


def open_bigwig(path: str | os.PathLike) -> Any:
    """A pyBigWig handle, or one line saying the file is missing or not a bigWig."""
    import pyBigWig

    if not os.path.exists(path):
        raise InputError(f"{path}: signal bigWig does not exist")
    try:
        handle = pyBigWig.open(str(path))
    except RuntimeError:
        handle = None
    if handle is None or not handle.isBigWig():
        raise InputError(f"{path}: not a bigWig file (pyBigWig cannot open it)")
    return handle


@dataclass(frozen=True)
class Intervals:
    """bedGraph-like intervals, sorted by chromosome (header order) then start, non-overlapping."""

    chrom: np.ndarray  # str
    start: np.ndarray  # int64, 0-based
    end: np.ndarray  # int64, half-open
    value: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.start)


def write_bigwig(path: str | os.PathLike, sizes: Mapping[str, int], intervals: Intervals) -> None:
    """A bigWig with the genome's chromosome sizes as its header (in ``sizes`` order), atomically."""
    import pyBigWig

    order = {name: i for i, name in enumerate(sizes)}
    ranks = np.array([order[c] for c in intervals.chrom.tolist()], dtype=np.int64)
    if len(intervals) and np.any(
        (np.diff(ranks) < 0) | ((np.diff(ranks) == 0) & (intervals.start[1:] < intervals.end[:-1]))
    ):
        raise ValueError("intervals must be sorted by chromosome (header order) and start, without overlap")
    with atomic_path(path) as tmp:
        handle = pyBigWig.open(str(tmp), "w")
        if handle is None:
            raise OSError(f"{tmp}: pyBigWig cannot open it for writing")
        try:
            handle.addHeader([(name, int(size)) for name, size in sizes.items()])
            for lo in range(0, len(intervals), ENTRIES):
                part = slice(lo, lo + ENTRIES)
                handle.addEntries(
                    intervals.chrom[part].tolist(),
                    intervals.start[part].tolist(),
                    ends=intervals.end[part].tolist(),
                    values=intervals.value[part].astype(np.float64).tolist(),
                )
        finally:
            handle.close()
