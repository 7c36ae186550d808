"""Reference (baseline) sequences for path and DeepLIFT attributions, reproducible per sequence.

Every random draw for sequence ``i`` is seeded by ``(seed, i)`` alone, so a sequence gets the same
references whatever the batch size, the chunking or the other sequences explained with it.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

BASELINES = ("zero", "shuffle")


def sequence_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for sequence ``index``: independent of batching by construction."""
    return np.random.default_rng([int(seed), int(index)])


def _shuffle_seeds(seed: int, start: int, stop: int) -> list[int]:
    # tangermeme seeds each sequence from one integer; derive it from (seed, i) so neighbouring
    # seeds do not hand sequence i the shuffles of sequence i + 1.
    return [int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0]) for i in range(start, stop)]


def dinucleotide_shuffles(x: np.ndarray, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """(S, n, L, 4) float32 dinucleotide shuffles of each sequence of ``x`` (S, L, 4).

    ``start`` is the index of ``x[0]`` in the full set, so chunked calls draw what one call would.
    Shuffles keep every dinucleotide count: a reference with the sequence's own composition and
    short-range statistics, so attributions measure motif grammar rather than GC content.
    """
    import torch
    from tangermeme.ersatz import dinucleotide_shuffle

    x = np.asarray(x, dtype=np.float32)
    if n < 1:
        raise InputError(f"the number of shuffled references must be >= 1, got {n}")
    seeds = _shuffle_seeds(seed, start, start + len(x))
    channels_first = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    shuffled = dinucleotide_shuffle(channels_first, n=int(n), random_state=seeds, allow_N=True)
    return np.ascontiguousarray(shuffled.numpy().transpose(0, 1, 3, 2), dtype=np.float32)


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
