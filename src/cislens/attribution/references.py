"""Reference (baseline) sequences for path and DeepLIFT attributions, reproducible per sequence.

Every random draw for sequence ``i`` is seeded by ``(seed, i)`` alone, so a sequence gets the same
references whatever the batch size, the chunking or the other sequences explained with it.
"""

from __future__ import annotations

import numpy as np

from ..data import shuffle
from ..data.shuffle import sequence_seeds
from ..errors import InputError

BASELINES = ("zero", "shuffle")


def sequence_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for sequence ``index``: independent of batching by construction."""
    return np.random.default_rng([int(seed), int(index)])


def dinucleotide_shuffles(x: np.ndarray, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """(S, n, L, 4) float32 dinucleotide shuffles of each sequence of ``x`` (S, L, 4).

    ``start`` is the index of ``x[0]`` in the full set, so chunked calls draw what one call would.
    Shuffles keep every dinucleotide count: a reference with the sequence's own composition and
    short-range statistics, so attributions measure motif grammar rather than GC content.
    """
    x = np.asarray(x, dtype=np.float32)
    if n < 1:
        raise InputError(f"the number of shuffled references must be >= 1, got {n}")
    seeds = sequence_seeds(seed, start, start + len(x))
    return np.ascontiguousarray(shuffle.dinucleotide_shuffles(x, int(n), seeds), dtype=np.float32)


def reference_count(baseline: str | np.ndarray, n: int) -> int:
    """K, the references per sequence ``baseline_chunk`` will return (to plan batches)."""
    if isinstance(baseline, str):
        return int(n) if baseline == "shuffle" else 1
    return int(np.shape(baseline)[1]) if np.ndim(baseline) == 4 else 1


def baseline_chunk(
    x: np.ndarray, baseline: str | np.ndarray, n: int, seed: int, start: int, stop: int
) -> np.ndarray:
    """(stop - start, K, L, 4) baselines of ``x[start:stop]`` (``x`` is the full set).

    ``baseline``: "zero" (K = 1), "shuffle" (K = ``n`` dinucleotide shuffles), or an array: (L, 4)
    shared by all sequences, (N, L, 4) one per sequence, or (N, K, L, 4) K per sequence.
    """
    length = x.shape[1:]
    if isinstance(baseline, str):
        if baseline == "zero":
            return np.zeros((stop - start, 1, *length), dtype=np.float32)
        if baseline == "shuffle":
            return dinucleotide_shuffles(x[start:stop], n, seed, start)
        raise InputError(f"unknown baseline {baseline!r}; valid: {', '.join(BASELINES)} or an array")
    ref = np.asarray(baseline, dtype=np.float32)
    if ref.shape == length:
        return np.broadcast_to(ref, (stop - start, 1, *length))
    if ref.shape == (len(x), *length):
        return ref[start:stop, None]
    if ref.ndim == 4 and ref.shape[0] == len(x) and ref.shape[2:] == length:
        return ref[start:stop]
    raise InputError(
        f"baseline of shape {ref.shape} fits neither (L, 4) = {length}, (N, L, 4) nor (N, K, L, 4) "
        f"for {len(x)} sequences"
    )


def make_baselines(x: np.ndarray, baseline: str | np.ndarray, n: int = 10, seed: int = 0) -> np.ndarray:
    """(N, K, L, 4) baselines exactly as the attribution methods draw them (for checks and plots)."""
    x = np.asarray(x, dtype=np.float32)
    return np.array(baseline_chunk(x, baseline, n, seed, 0, len(x)))
