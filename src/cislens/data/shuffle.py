"""Mono- and dinucleotide shuffles of one-hot sequences (and of strings): the one shuffle of the package.

The dinucleotide shuffle is tangermeme's Eulerian-path shuffle (N columns shuffled as a fifth letter, so
every dinucleotide count is kept); the mononucleotide shuffle permutes positions with numpy.

Seed convention: ``random_state`` is what tangermeme takes, either one integer for the whole batch or
one integer per sequence; a sequence shuffled with its own integer gets the same shuffles whatever else
is in the batch. Callers derive those integers from their seed in one documented way each, and each
derivation is part of their outputs' reproducibility (so none may change):

* attribution references: :func:`sequence_seeds` (``SeedSequence([seed, i])`` for sequence ``i`` of the
  full set, so chunked calls draw what one call would, and neighbouring seeds share no shuffles);
* dataset negatives (:func:`dinuc_shuffled`, written to dataset.h5): ``seed + i`` for sequence ``i``;
* GIA backgrounds: one integer drawn from the experiment's generator for the whole batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from . import onehot


def sequence_seeds(seed: int, start: int, stop: int) -> list[int]:
    """One tangermeme seed per sequence ``start..stop-1``, derived from ``(seed, i)`` alone."""
    return [int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0]) for i in range(start, stop)]


def dinucleotide_shuffles(x: np.ndarray, n: int = 1, random_state: int | Sequence[int] = 0) -> np.ndarray:
    """(N, n, L, 4) dinucleotide shuffles of each (L, 4) one-hot sequence of ``x``, in ``x``'s dtype.

    ``random_state``: one integer for the batch, or one per sequence (see the module's seed convention).
    """
    import torch
    from tangermeme.ersatz import dinucleotide_shuffle as _tm_shuffle

    x = np.asarray(x)
    channels_first = torch.from_numpy(onehot.to_channels_first(x))
    shuffled = _tm_shuffle(channels_first, n=int(n), random_state=random_state, allow_N=True)
    return np.ascontiguousarray(np.swapaxes(shuffled.numpy(), 2, 3))


def dinucleotide_shuffle(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """One dinucleotide shuffle of each (L, 4) sequence in ``x`` (float32), the batch seeded by ``seed``."""
    return dinucleotide_shuffles(np.asarray(x, dtype=np.float32), 1, int(seed))[:, 0].astype(np.float32)


def mononucleotide_shuffle(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """One random permutation of the positions of each sequence: base counts (and N count) exact."""
    x = np.asarray(x, dtype=np.float32)
    order = np.argsort(np.random.default_rng(seed).random(x.shape[:2]), axis=1)
    return np.take_along_axis(x, order[..., None], axis=1)


def dinuc_shuffled(seqs: Sequence[str], n_per_seq: int, seed: int = 0) -> list[str]:
    """``n_per_seq`` dinucleotide shuffles of each sequence (seq 0's shuffles first, then seq 1's ...).

    N (any non-ACGT letter) is shuffled as a fifth letter, so every dinucleotide count, including those
    with N, is kept. Sequence i is shuffled with seed ``seed + i``, independent of what else is in the
    batch (sequences of one length are shuffled together).
    """
    if len(seqs) == 0 or n_per_seq <= 0:
        return []
    out: list[str] = [""] * (len(seqs) * n_per_seq)
    lengths = np.fromiter((len(q) for q in seqs), dtype=np.int64, count=len(seqs))
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        x = onehot.one_hot([seqs[i] for i in rows.tolist()], dtype=np.int8).reshape(len(rows), length, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            states = [int(seed) + i for i in rows.tolist()]
            shuffled = dinucleotide_shuffles(x, n_per_seq, states)
        decoded = onehot.decode(shuffled.reshape(-1, length, 4))
        for k, i in enumerate(rows.tolist()):
            out[i * n_per_seq : (i + 1) * n_per_seq] = decoded[k * n_per_seq : (k + 1) * n_per_seq]
    return out
