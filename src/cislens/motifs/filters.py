"""First-layer filters -> position probability matrices (Koo & Eddy 2019), trimming and Motif conversion.

A filter's PPM is the average of the input windows that activate it strongly: every (sequence,
position) whose activation exceeds ``threshold`` x the filter's maximum over the given set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import InputError
from ..meme import Motif
from ..ppm import information

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
    activations = np.asarray(activations)
    if activations.ndim != 3 or activations.shape[0] != np.shape(x)[0]:
        n = np.shape(x)[0]
        raise InputError(f"activations must be (N, L_act, F) with N={n}, got {activations.shape}")
    return streamed_ppms(
        x,
        lambda start, stop: activations[start:stop],
        kernel_size,
        threshold=threshold,
        window=window,
        weighted=weighted,
        padding=padding,
        batch_size=max(len(activations), 1),
    )


def streamed_ppms(
    x: np.ndarray,
    activations_of: Callable[[int, int], np.ndarray],
    kernel_size: int,
    *,
    threshold: float = 0.5,
    window: int | None = None,
    weighted: bool = False,
    padding: str = "same",
    batch_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`activation_ppms` in two passes over batches, so memory never holds all activations.

    ``activations_of(start, stop)`` returns the (stop - start, L_act, F) activations of
    ``x[start:stop]``; it is called twice per batch (maxima first, then the sites above threshold x
    max), which for a first layer costs far less than keeping 10^5 x L x F floats.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != 4:
        raise InputError(f"x must be (N, L, 4), got {x.shape}")
    n, length, _ = x.shape
    width = int(window or kernel_size)
    start = receptive_offset(kernel_size, padding) - (width - kernel_size) // 2
    expected = length if padding == "same" else length - kernel_size + 1
    spans = [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]

    maxima: np.ndarray | None = None
    for lo, hi in spans:
        act = np.asarray(activations_of(lo, hi))
        if act.ndim != 3 or act.shape[:2] != (hi - lo, expected):
            raise InputError(
                f"{padding!r} conv of length {length} with kernel {kernel_size} gives "
                f"{expected} positions per sequence; activations have shape {act.shape}"
            )
        batch_max = act.max(axis=(0, 1))
        maxima = batch_max if maxima is None else np.maximum(maxima, batch_max)
    if maxima is None:  # no sequences: nothing to learn, every filter uniform
        n_filters = int(np.asarray(activations_of(0, 0)).shape[-1])
        return np.full((n_filters, width, 4), 0.25), np.zeros(n_filters, dtype=np.int64)

    n_filters = len(maxima)
    # Pad so that every window [i + start, i + start + width) lies inside the padded batch.
    left = max(0, -start)
    right = max(0, (expected - 1) + start + width - length)
    offsets = np.arange(width) + start + left
    sums = np.zeros((n_filters, width, 4))
    nsites = np.zeros(n_filters, dtype=np.int64)
    live = np.flatnonzero(maxima > 0)
    # One-hot input (zero rows for N) is gathered as base codes and counted with bincount: a quarter
    # of the bytes of float windows and no float sums; anything else takes the general float path.
    coded = _is_onehot(x)
    column = (np.arange(width) * 5)[None, :]
    for lo, hi in spans:
        act = np.asarray(activations_of(lo, hi))
        if coded:
            xp = np.full((hi - lo, left + length + right), 4, dtype=np.int64)
            chunk = x[lo:hi]
            xp[:, left : left + length] = np.where(chunk.any(axis=-1), chunk.argmax(axis=-1), 4)
        else:
            xp = np.zeros((hi - lo, left + length + right, 4), dtype=np.float32)
            xp[:, left : left + length] = x[lo:hi]
        for f in live:
            a = act[:, :, f]
            seq_idx, pos_idx = np.nonzero(a > threshold * maxima[f])
            nsites[f] += len(seq_idx)
            for c in range(0, len(seq_idx), _CHUNK_SITES):
                s, p = seq_idx[c : c + _CHUNK_SITES], pos_idx[c : c + _CHUNK_SITES]
                windows = xp[s[:, None], p[:, None] + offsets[None, :]]  # (M, W) codes or (M, W, 4)
                if coded:
                    w = np.repeat(a[s, p].astype(np.float64), width) if weighted else None
                    counts = np.bincount((windows + column).ravel(), weights=w, minlength=5 * width)
                    sums[f] += counts.reshape(width, 5)[:, :4]
                    continue
                if weighted:
                    windows = windows * a[s, p].astype(np.float32)[:, None, None]
                sums[f] += windows.sum(axis=0, dtype=np.float64)
    totals = sums.sum(axis=2, keepdims=True)  # zero columns (padding, N) carry no weight
    ppms = np.where(totals > 0, sums / np.where(totals > 0, totals, 1), 0.25)
    return ppms, nsites


def _is_onehot(x: np.ndarray) -> bool:
    """Every position one base (a single 1) or none (all zeros, e.g. N)."""
    return bool(np.isin(x, (0, 1)).all() and (x.sum(axis=-1) <= 1).all())


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
