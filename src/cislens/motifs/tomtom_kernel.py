"""The compiled pass (numba) that turns memelite's Tomtom matrices into the pairs of a thresholded table.

memelite returns p-values and overlaps as strided views of one (queries, targets, 5) array, so every
pass over a matrix reads all of it; here one parallel pass per row finds the pairs under the p-value
cutoff that overlap enough, and gives each its Benjamini-Hochberg q-value over the query's whole row
(Tomtom's q-values: one query against every target). Module-level functions so that ``cache=True``
holds across processes; :mod:`cislens.motifs.tomtom` imports this module only when it runs memelite.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange


@numba.njit(cache=True, nogil=True)
def _passes(p: float, overlap: float, q_width: int, t_width: int, min_overlap: int, cutoff: float) -> bool:
    """A pair passes under the cutoff with an overlap of min(min_overlap, both widths) or more."""
    return p <= cutoff and overlap >= min(min_overlap, min(q_width, t_width))


@numba.njit(cache=True, nogil=True)
def _count_row(
    p: np.ndarray, overlaps: np.ndarray, q_width: int, t_widths: np.ndarray, min_overlap: int, cutoff: float
) -> int:
    kept = 0
    for t in range(len(p)):
        if _passes(p[t], overlaps[t], q_width, t_widths[t], min_overlap, cutoff):
            kept += 1
    return kept


@numba.njit(cache=True, nogil=True)
def _fill_row(
    p: np.ndarray,
    overlaps: np.ndarray,
    q_width: int,
    t_widths: np.ndarray,
    min_overlap: int,
    cutoff: float,
    ti: np.ndarray,
    pv: np.ndarray,
    qv: np.ndarray,
) -> None:
    """The row's kept targets, their p-values clipped to [0, 1] and their BH q-values.

    BH's q of a value at rank r is the minimum of p_(j) n / j over j >= r, at most v n. A term of a
    value above the largest kept value times n is larger than that bound, so only the row's values up
    to it are sorted: the q-values are those of the whole row's BH, to the bit.
    """
    n = len(p)
    k = 0
    bound = 0.0
    for t in range(n):
        if _passes(p[t], overlaps[t], q_width, t_widths[t], min_overlap, cutoff):
            ti[k] = t
            pv[k] = min(max(p[t], 0.0), 1.0)
            bound = max(bound, pv[k] * n)
            k += 1
    head = np.empty(n)
    m = 0
    for t in range(n):
        value = min(max(p[t], 0.0), 1.0)
        if value <= bound:
            head[m] = value
            m += 1
    ranked = np.sort(head[:m])
    suffix = np.empty(m)
    running = 1.0
    for j in range(m - 1, -1, -1):
        running = min(running, ranked[j] * (n / (j + 1)))
        suffix[j] = running
    for e in range(k):
        qv[e] = suffix[np.searchsorted(ranked, pv[e])]  # the first position of the value: ties share q


@numba.njit(cache=True, parallel=True)
def kept_pairs(
    p: np.ndarray,
    overlaps: np.ndarray,
    q_widths: np.ndarray,
    t_widths: np.ndarray,
    min_overlap: int,
    cutoff: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(query, target) indices of the pairs that pass, row by row, with their p- and q-values.

    ``p`` and ``overlaps`` are (queries, targets) matrices in any layout; a pair passes where its
    p-value is <= ``cutoff`` and its overlap >= min(min_overlap, query width, target width). p-values
    are clipped to [0, 1] and q-values are BH over each query's whole row.
    """
    nq = p.shape[0]
    counts = np.zeros(nq, np.int64)
    for i in prange(nq):
        counts[i] = _count_row(p[i], overlaps[i], q_widths[i], t_widths, min_overlap, cutoff)
    starts = np.zeros(nq + 1, np.int64)
    starts[1:] = np.cumsum(counts)
    total = starts[nq]
    qi = np.empty(total, np.int64)
    ti = np.empty(total, np.int64)
    pv = np.empty(total)
    qv = np.empty(total)
    for i in prange(nq):
        lo, hi = starts[i], starts[i + 1]
        if hi > lo:
            qi[lo:hi] = i
            _fill_row(
                p[i], overlaps[i], q_widths[i], t_widths, min_overlap, cutoff, ti[lo:hi], pv[lo:hi], qv[lo:hi]
            )
    return qi, ti, pv, qv
