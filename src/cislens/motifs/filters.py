"""First-layer filters -> position probability matrices (anchors §3), trimming and Motif conversion.

A filter's PPM is the average of the input windows that activate it strongly: every (sequence,
position) whose activation exceeds ``threshold`` x the filter's maximum over the given set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..ppm import information
from .meme import Motif

_CHUNK_SITES = 65536  # windows gathered at once: bounds memory at ~CHUNK x W x 4 floats


def receptive_offset(kernel_size: int, padding: str = "same") -> int:
    """Input index of the first base seen by activation position 0 (Keras conventions).

    'same' pads (K - 1) // 2 on the left (TensorFlow puts the odd extra column on the right);
    'valid' does not pad.
    """
    if padding == "same":
        return -((kernel_size - 1) // 2)
    if padding == "valid":
        return 0
    raise InputError(f"padding must be 'same' or 'valid', got {padding!r}")


def activation_ppms(
    x: np.ndarray,
    activations: np.ndarray,
    kernel_size: int,
    *,
    threshold: float = 0.5,
    window: int | None = None,
    weighted: bool = False,
    padding: str = "same",
) -> tuple[np.ndarray, np.ndarray]:
    """PPMs (F, W, 4) and site counts (F,) from strongly activating input windows.

    ``window`` defaults to the kernel size; a different width is centred on the receptive field.
    Windows running off the sequence ends see zero columns, which do not count in the mean; a column
    with no data at all is 0.25. Filters whose maximum is <= 0 (never fire) get a uniform PPM and 0 sites.
    """
    x = np.asarray(x)
    activations = np.asarray(activations)
    if x.ndim != 3 or x.shape[-1] != 4:
        raise InputError(f"x must be (N, L, 4), got {x.shape}")
    if activations.ndim != 3 or activations.shape[0] != x.shape[0]:
        raise InputError(f"activations must be (N, L_act, F) with N={x.shape[0]}, got {activations.shape}")
    n, length, _ = x.shape
    n_filters = activations.shape[-1]
    width = int(window or kernel_size)
    start = receptive_offset(kernel_size, padding) - (width - kernel_size) // 2
    expected = length if padding == "same" else length - kernel_size + 1
    if activations.shape[1] != expected:
        raise InputError(
            f"{padding!r} conv of length {length} with kernel {kernel_size} gives "
            f"{expected} positions, activations have {activations.shape[1]}"
        )
    # Pad so that every window [i + start, i + start + width) lies inside the padded array.
    left = max(0, -start)
    right = max(0, (activations.shape[1] - 1) + start + width - length)
    xp = np.zeros((n, left + length + right, 4), dtype=np.float32)
    xp[:, left : left + length] = x
    offsets = np.arange(width) + start + left

    ppms = np.full((n_filters, width, 4), 0.25)
    nsites = np.zeros(n_filters, dtype=np.int64)
    maxima = activations.reshape(-1, n_filters).max(axis=0) if activations.size else np.zeros(n_filters)
    for f in range(n_filters):
        if not maxima[f] > 0:
            continue
        act = activations[:, :, f]
        seq_idx, pos_idx = np.nonzero(act > threshold * maxima[f])
        sums = np.zeros((width, 4))
        for lo in range(0, len(seq_idx), _CHUNK_SITES):
            s, p = seq_idx[lo : lo + _CHUNK_SITES], pos_idx[lo : lo + _CHUNK_SITES]
            windows = xp[s[:, None], p[:, None] + offsets[None, :]]  # (M, W, 4)
            if weighted:
                windows = windows * act[s, p].astype(np.float32)[:, None, None]
            sums += windows.sum(axis=0, dtype=np.float64)
        totals = sums.sum(axis=1, keepdims=True)  # zero columns (padding, N) carry no weight
        ppms[f] = np.where(totals > 0, sums / np.where(totals > 0, totals, 1), 0.25)
        nsites[f] = len(seq_idx)
    return ppms, nsites


def trim_bounds(ppm: np.ndarray, min_info: float = 0.5, pad: int = 3) -> tuple[int, int]:
    """[start, end) of the span of columns with information > min_info, padded; whole ppm if none."""
    info = information(ppm)
    keep = np.nonzero(info > min_info)[0]
    if keep.size == 0:
        return 0, len(info)
    return max(0, int(keep[0]) - pad), min(len(info), int(keep[-1]) + 1 + pad)


def trim_ppm(ppm: np.ndarray, min_info: float = 0.5, pad: int = 3) -> np.ndarray:
    """Clip to the informative span plus ``pad`` columns each side.

    If no column passes, the PPM is returned whole (a copy) so the filter count never changes silently.
    Beware: with memelite, a uniform 19-column PPM still hits MA0615.1 (Gmeb1, a long low-information
    motif) at E ~ 0.007, so leave never-firing filters out of Tomtom (``filters_to_motifs(skip_empty=True)``).
    """
    start, end = trim_bounds(ppm, min_info, pad)
    return np.array(ppm[start:end], dtype=np.float64)


def filters_to_motifs(
    ppms: np.ndarray | Sequence[np.ndarray],
    nsites: Sequence[int] | np.ndarray,
    prefix: str = "filter",
    *,
    skip_empty: bool = False,
) -> list[Motif]:
    """Motifs ``{prefix}{i}`` for filter i; ``skip_empty`` drops filters with no sites (never fired)."""
    if len(ppms) != len(nsites):
        raise InputError(f"{len(ppms)} PPMs but {len(nsites)} site counts")
    return [
        Motif(f"{prefix}{i}", f"{prefix}{i}", np.asarray(p), int(k))
        for i, (p, k) in enumerate(zip(ppms, nsites, strict=True))
        if not (skip_empty and k == 0)
    ]
