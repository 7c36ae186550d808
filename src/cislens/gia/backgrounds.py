"""Background sequences for global importance analysis (GIA)."""

from __future__ import annotations

import numpy as np

from ..data.onehot import from_indices, to_channels_first, to_channels_last


def nucleotide_profile(x: np.ndarray) -> np.ndarray:
    """(L, 4) position-wise base frequencies; positions with no called base become uniform."""
    profile = np.asarray(x, dtype=np.float64).mean(axis=0)
    total = profile.sum(axis=-1, keepdims=True)
    return np.where(total > 0, profile / np.where(total > 0, total, 1.0), 0.25)


def profile_backgrounds(x: np.ndarray, n: int = 1000, seed: int = 0) -> np.ndarray:
    """(n, L, 4) sequences drawn independently per position from the profile of ``x``.

    Keeps positional composition (e.g. GC near the centre of peaks) while destroying motifs.
    """
    profile = nucleotide_profile(x)
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(profile, axis=-1)
    draws = rng.random((n, profile.shape[0]))
    idx = (draws[..., None] >= cumulative[None, :, :3]).sum(axis=-1)
    return from_indices(idx)


def dinucleotide_shuffle(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """One dinucleotide shuffle of each (L, 4) sequence in ``x``, by tangermeme (N columns kept)."""
    import torch
    from tangermeme.ersatz import dinucleotide_shuffle as _tm_shuffle

    tensor = torch.from_numpy(to_channels_first(np.asarray(x, dtype=np.float32)))
    shuffled = _tm_shuffle(tensor, n=1, random_state=int(seed), allow_N=True)[:, 0]
    return to_channels_last(shuffled.numpy().astype(np.float32))


def shuffled_backgrounds(x: np.ndarray, n: int = 1000, seed: int = 0, k: int = 2) -> np.ndarray:
    """(n, L, 4) shuffles of sequences drawn from ``x``: k=1 keeps base counts, k=2 dinucleotides."""
    x = np.asarray(x, dtype=np.float32)
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(x), size=n, replace=n > len(x)))
    chosen = x[picks]
    if k == 1:
        order = np.argsort(rng.random(chosen.shape[:2]), axis=1)
        return np.take_along_axis(chosen, order[..., None], axis=1)
    if k == 2:
        return dinucleotide_shuffle(chosen, seed=int(rng.integers(2**31 - 1)))
    raise ValueError(f"k must be 1 or 2, got {k}")
