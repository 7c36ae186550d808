"""Write patterns into sequences for GIA (never in place: backgrounds are reused across conditions)."""

from __future__ import annotations

import numpy as np

from ..data.onehot import from_indices
from ..errors import InputError


def _check_fit(length: int, width: int, starts: np.ndarray) -> None:
    if starts.size and (starts.min() < 0 or starts.max() > length - width):
        raise InputError(
            f"pattern of width {width} does not fit at positions {sorted(set(starts.ravel().tolist()))[:5]} "
            f"in sequences of length {length}"
        )


def embed(x: np.ndarray, pattern: np.ndarray, position: int | np.ndarray) -> np.ndarray:
    """Copy of ``x`` (N, L, 4) with the (W, 4) or (N, W, 4) ``pattern`` written at ``position``.

    ``position`` is one start for all rows or one start per row (N,). All-zero pattern columns (N in a
    literal) keep the background's base, so a pattern can fix a few positions and leave the rest.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    return embed_into(out, pattern, position)


def embed_into(out: np.ndarray, pattern: np.ndarray, position: int | np.ndarray) -> np.ndarray:
    """:func:`embed` writing into ``out`` itself (for buffers built by the caller); returns ``out``."""
    pattern = np.asarray(pattern, dtype=np.float32)
    width = pattern.shape[-2]
    starts = np.asarray(position)
    _check_fit(out.shape[1], width, starts)
    keep = pattern.sum(axis=-1, keepdims=True) > 0
    if starts.ndim == 0:
        window = out[:, int(starts) : int(starts) + width]
        out[:, int(starts) : int(starts) + width] = pattern if keep.all() else np.where(keep, pattern, window)
        return out
    if starts.shape != (len(out),):
        raise InputError(f"need one start per sequence ({len(out)}), got shape {starts.shape}")
    cols = starts[:, None] + np.arange(width)[None, :]
    rows = np.arange(len(out))[:, None]
    pattern = np.broadcast_to(pattern, (len(out), width, 4))
    keep = np.broadcast_to(keep, (len(out), width, 1))
    out[rows, cols] = np.where(keep, pattern, out[rows, cols])
    return out


def center_position(length: int, width: int) -> int:
    """Start index that centres a ``width`` pattern in a ``length`` sequence."""
    return (length - width) // 2


def consensus_onehot(ppm: np.ndarray) -> np.ndarray:
    """(W, 4) one-hot of the most probable base per column."""
    return from_indices(np.asarray(ppm).argmax(axis=-1))


def sample_pattern(ppm: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """(n, W, 4) one-hot instances drawn column by column from the PPM (motif variability)."""
    ppm = np.asarray(ppm, dtype=np.float64)
    ppm = ppm / ppm.sum(axis=-1, keepdims=True)
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(ppm, axis=-1)
    draws = rng.random((n, ppm.shape[0]))
    return from_indices((draws[..., None] >= cumulative[None, :, :3]).sum(axis=-1))


def random_site_starts(
    rng: np.random.Generator, n: int, k: int, width: int, length: int, min_gap: int = 0
) -> np.ndarray:
    """(n, k) sorted starts of k non-overlapping sites per sequence, anywhere they fit.

    Draw k sorted offsets in the free space L - k*(W + gap) + gap, then push site j right by j*(W + gap):
    no rejection loop, and every layout with at least ``min_gap`` bases between sites can occur.
    """
    stride = width + min_gap
    free = length - k * stride + min_gap
    if k < 1 or free < 1:
        raise InputError(f"{k} sites of width {width} (gap {min_gap}) do not fit in length {length}")
    offsets = np.sort(rng.integers(0, free, size=(n, k)), axis=1)
    return offsets + np.arange(k)[None, :] * stride
