"""Background sequences for global importance analysis (GIA)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.onehot import from_indices
from ..data.shuffle import dinucleotide_shuffle, mononucleotide_shuffle


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


def shuffled_backgrounds(x: np.ndarray, n: int = 1000, seed: int = 0, k: int = 2) -> np.ndarray:
    """(n, L, 4) shuffles of sequences drawn from ``x``: k=1 keeps base counts, k=2 dinucleotides."""
    x = np.asarray(x, dtype=np.float32)
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(x), size=n, replace=n > len(x)))
    chosen = x[picks]
    if k == 1:
        return mononucleotide_shuffle(chosen, seed=int(rng.integers(2**31 - 1)))
    if k == 2:
        return dinucleotide_shuffle(chosen, seed=int(rng.integers(2**31 - 1)))
    raise ValueError(f"k must be 1 or 2, got {k}")


def lowest_scoring(x: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` real sequences the model scores lowest (stable order): backgrounds without activity."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim > 1:
        scores = scores.mean(axis=tuple(range(1, scores.ndim)))
    keep = np.sort(np.argsort(scores, kind="stable")[: min(n, len(x))])
    return np.asarray(x, dtype=np.float32)[keep]


def central_mask(scores: np.ndarray, q: float) -> np.ndarray:
    """True for backgrounds whose score lies within the [q, 1 - q] quantiles (extremes dropped)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim > 1:
        scores = scores.mean(axis=tuple(range(1, scores.ndim)))
    if not 0 <= q < 0.5:
        raise ValueError(f"filter quantile must be in [0, 0.5), got {q}")
    if q == 0:
        return np.ones(len(scores), dtype=bool)
    low, high = np.quantile(scores, [q, 1 - q])
    return (scores >= low) & (scores <= high)


KINDS = ("profile", "dinuc_shuffle", "mono_shuffle", "low_activity")


def make_backgrounds(
    kind: str,
    x: np.ndarray,
    n: int = 1000,
    seed: int = 0,
    *,
    score: Callable[[np.ndarray], np.ndarray] | None = None,
    filter_quantile: float = 0.0,
) -> np.ndarray:
    """(n, L, 4) backgrounds of one kind drawn from real sequences ``x`` (the test set), seeded.

    ``low_activity`` and ``filter_quantile`` > 0 need ``score`` (sequences -> model scores). Filtering
    draws about n / (1 - 2q) candidates and keeps the first n within the central quantiles, so the count
    stays n while the backgrounds the model finds extreme (which would saturate effects) are dropped.
    """
    if kind not in KINDS:
        raise ValueError(f"background must be one of {KINDS}, got {kind!r}")
    if (kind == "low_activity" or filter_quantile > 0) and score is None:
        raise ValueError(f"background {kind!r} with filter_quantile={filter_quantile} needs a score function")
    if kind == "low_activity":
        pool = np.asarray(x, dtype=np.float32)
        if filter_quantile > 0:  # extremes of the whole pool, then the lowest of the rest
            pool = pool[central_mask(score(pool), filter_quantile)]
        return lowest_scoring(pool, score(pool), n)
    draw = n if filter_quantile == 0 else int(np.ceil(n / (1 - 2 * filter_quantile) * 1.02)) + 4
    if kind == "profile":
        out = profile_backgrounds(x, n=draw, seed=seed)
    else:
        out = shuffled_backgrounds(x, n=draw, seed=seed, k=2 if kind == "dinuc_shuffle" else 1)
    if filter_quantile > 0:
        out = out[central_mask(score(out), filter_quantile)]
    return out[:n]
