"""One-hot encoding in ACGT order, shaped (N, L, 4) for Keras, with (N, 4, L) helpers for tangermeme."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALPHABET = "ACGT"

_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _base in enumerate(ALPHABET):
    _LOOKUP[ord(_base)] = _i
    _LOOKUP[ord(_base.lower())] = _i


def one_hot(seqs: str | Sequence[str], dtype: type = np.float32) -> np.ndarray:
    """Encode equal-length sequences as (N, L, 4); any letter other than ACGT becomes all zeros."""
    if isinstance(seqs, str):
        seqs = [seqs]
    if len(seqs) == 0:
        return np.zeros((0, 0, 4), dtype=dtype)
    length = len(seqs[0])
    if any(len(s) != length for s in seqs):
        raise ValueError("one_hot needs sequences of equal length")
    codes = _LOOKUP[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)]
    codes = codes.reshape(len(seqs), length)
    out = np.zeros((len(seqs), length, 4), dtype=dtype)
    valid = codes >= 0
    n_idx, l_idx = np.nonzero(valid)
    out[n_idx, l_idx, codes[valid]] = 1
    return out


def decode(x: np.ndarray) -> list[str]:
    """Turn (N, L, 4) one-hot (or probabilities) back into strings; all-zero columns become N."""
    x = np.asarray(x)
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    idx = np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), 4)
    return [letters[row].tobytes().decode("ascii") for row in idx]


def indices(x: np.ndarray) -> np.ndarray:
    """Integer base index per position (N, L); -1 where the column is all zeros."""
    return np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), -1)


def from_indices(idx: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """(N, L) integer codes 0..3 -> (N, L, 4) one-hot; negative codes give all-zero columns."""
    idx = np.asarray(idx)
    out = np.zeros((*idx.shape, 4), dtype=dtype)
    valid = idx >= 0
    out[valid, idx[valid]] = 1
    return out


def reverse_complement(x: np.ndarray) -> np.ndarray:
    """Reverse complement of (N, L, 4) ACGT one-hot: flip positions and swap A<->T, C<->G."""
    return np.ascontiguousarray(x[:, ::-1, ::-1])


def to_channels_first(x: np.ndarray) -> np.ndarray:
    """(N, L, 4) Keras layout -> (N, 4, L) tangermeme/memelite layout."""
    return np.ascontiguousarray(np.swapaxes(x, 1, 2))


def to_channels_last(x: np.ndarray) -> np.ndarray:
    """(N, 4, L) tangermeme/memelite layout -> (N, L, 4) Keras layout."""
    return np.ascontiguousarray(np.swapaxes(x, 1, 2))


def gc_content(x: np.ndarray) -> np.ndarray:
    """Fraction of C or G per sequence among called bases."""
    called = x.sum(axis=(1, 2))
    return (x[..., 1].sum(axis=1) + x[..., 2].sum(axis=1)) / np.maximum(called, 1)
