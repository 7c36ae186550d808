"""Write patterns into sequences for GIA."""

from __future__ import annotations

import numpy as np

from ..data.onehot import from_indices
from ..errors import InputError


def embed(x: np.ndarray, pattern: np.ndarray, position: int) -> np.ndarray:
    """Copy of ``x`` (N, L, 4) with the (W, 4) or (N, W, 4) ``pattern`` written at ``position``."""
    out = np.array(x, dtype=np.float32, copy=True)
    pattern = np.asarray(pattern, dtype=np.float32)
    width = pattern.shape[-2]
    if not 0 <= position <= out.shape[1] - width:
        raise InputError(
            f"pattern of width {width} does not fit at position {position} "
            f"in sequences of length {out.shape[1]}"
        )
    out[:, position : position + width] = pattern
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
