"""One-hot encoding in ACGT order, shaped (N, L, 4) for Keras, with (N, 4, L) helpers for tangermeme."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALPHABET = "ACGT"

# One uint32 per byte whose four little-endian bytes are that base's one-hot row (A = byte 0), so a
# single table lookup viewed as bytes encodes a sequence; anything but ACGT/acgt is all zeros.
PACKED = np.zeros(256, dtype="<u4")
for _i, _base in enumerate(b"ACGT"):
    PACKED[_base] = PACKED[_base + 32] = 1 << (8 * _i)


def encode_bytes(raw: np.ndarray) -> np.ndarray:
    """uint8 one-hot (..., 4) of an array of ASCII codes of any shape."""
    raw = np.asarray(raw, dtype=np.uint8)
    packed = np.empty(raw.shape, dtype="<u4")
    np.take(PACKED, raw, out=packed)
    return packed.view(np.uint8).reshape(*raw.shape, 4)


def one_hot(seqs: str | Sequence[str], dtype: type = np.float32) -> np.ndarray:
    """Encode equal-length sequences as (N, L, 4); any letter other than ACGT becomes all zeros."""
    if isinstance(seqs, str):
        seqs = [seqs]
    if len(seqs) == 0:
        return np.zeros((0, 0, 4), dtype=dtype)
    length = len(seqs[0])
    if any(len(s) != length for s in seqs):
        raise ValueError("one_hot needs sequences of equal length")
    raw = np.frombuffer("".join(seqs).encode("ascii", errors="replace"), dtype=np.uint8)
    out = encode_bytes(raw.reshape(len(seqs), length))
    return out if dtype == np.uint8 else out.astype(dtype)


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
