"""Train/valid/test splits: by chromosome (no shared loci across splits) or at random (synthetic data)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError


def chromosome_split(
    chroms: Sequence[str] | np.ndarray, valid_chroms: Sequence[str], test_chroms: Sequence[str]
) -> dict[str, np.ndarray]:
    """Indices per split; train is every chromosome not held out.

    A held-out chromosome without sequences simply gives an empty split; a chromosome named in both
    hold-out lists, or hold-outs that leave train empty, are configuration errors.
    """
    chroms = np.asarray(chroms, dtype=str)
    both = sorted(set(valid_chroms) & set(test_chroms))
    if both:
        raise InputError(f"chromosome(s) {', '.join(both)} listed in both valid_chroms and test_chroms")
    is_valid = np.isin(chroms, list(valid_chroms))
    is_test = np.isin(chroms, list(test_chroms))
    train = np.flatnonzero(~is_valid & ~is_test)
    if len(train) == 0:
        raise InputError(
            f"no training sequences left after holding out valid={list(valid_chroms)} "
            f"test={list(test_chroms)}"
        )
    return {"train": train, "valid": np.flatnonzero(is_valid), "test": np.flatnonzero(is_test)}


def random_split(
    n: int, fractions: tuple[float, float, float] = (0.7, 0.1, 0.2), seed: int = 0
) -> dict[str, np.ndarray]:
    """Seeded random split of ``range(n)``; each split's indices come back sorted."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) <= 0:
        raise InputError(f"split fractions must be three non-negative numbers, got {fractions}")
    total = sum(fractions)
    n_valid = round(n * fractions[1] / total)
    n_test = round(n * fractions[2] / total)
    n_train = n - n_valid - n_test
    if n_train <= 0 and n > 0:
        raise InputError(f"random split of {n} sequences with fractions {fractions} leaves train empty")
    order = np.random.default_rng(seed).permutation(n)
    return {
        "train": np.sort(order[:n_train]),
        "valid": np.sort(order[n_train : n_train + n_valid]),
        "test": np.sort(order[n_train + n_valid :]),
    }
