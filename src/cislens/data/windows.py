"""Fixed-width windows around peaks, and fast sequence fetching for them.

Centring follows tangermeme's ``extract_loci`` convention so the two agree base for base:
centre = start + summit (or start + (end - start) // 2), window = [centre - w // 2, centre - w // 2 + w).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from . import onehot
from .genome import validated_index

# Mitochondria, unplaced and alternative contigs: dropped before anything else by default.
DEFAULT_EXCLUDE = r"^(chrM|MT|M|chrUn.*|.*_random|.*_alt|.*_fix|.*_hap\d*|EBV)$"

_VALID = np.zeros(256, dtype=bool)
_VALID[np.frombuffer(b"ACGTacgt", dtype=np.uint8)] = True


def compile_exclude(exclude_regex: str) -> re.Pattern[str]:
    """The ``exclude_chroms`` regular expression, or one line naming the key and the regex error."""
    try:
        return re.compile(exclude_regex)
    except re.error as error:
        raise InputError(
            f"exclude_chroms: {exclude_regex!r} is not a valid regular expression ({error})"
        ) from None


def filter_chroms(df: pd.DataFrame, exclude_regex: str | None = DEFAULT_EXCLUDE) -> tuple[pd.DataFrame, int]:
    """Drop rows whose chromosome name fully matches ``exclude_regex`` (mitochondria, unplaced, alts)."""
    if not exclude_regex:
        return df.reset_index(drop=True), 0
    pattern = compile_exclude(exclude_regex)
    keep = np.array([pattern.fullmatch(str(c)) is None for c in df["chrom"]], dtype=bool)
    return df[keep].reset_index(drop=True), int((~keep).sum())


def center_windows(df: pd.DataFrame, width: int, center: str = "summit") -> pd.DataFrame:
    """Replace start/end by a ``width``-bp window centred on the summit (midpoint where summit == -1).

    The original interval is kept in ``peak_start``/``peak_end``; ``summit`` becomes the centre's
    offset inside the window.
    """
    if width <= 0:
        raise InputError(f"window width must be positive, got {width}")
    if center not in ("summit", "midpoint"):
        raise InputError(f"center must be 'summit' or 'midpoint', got {center!r}")
    start = df["start"].to_numpy(np.int64)
    end = df["end"].to_numpy(np.int64)
    mid = start + (end - start) // 2
    if center == "summit" and "summit" in df:
        summit = df["summit"].to_numpy(np.int64)
        mid = np.where(summit >= 0, start + summit, mid)
    out = df.copy()
    out["peak_start"] = start
    out["peak_end"] = end
    out["start"] = mid - width // 2
    out["end"] = out["start"] + width
    out["summit"] = mid - out["start"].to_numpy(np.int64)
    return out.reset_index(drop=True)


def drop_off_chrom(df: pd.DataFrame, sizes: dict[str, int]) -> tuple[pd.DataFrame, int]:
    """Drop windows that start before 0 or end past their chromosome (unknown contigs count as off)."""
    codes, names = pd.factorize(df["chrom"])  # one lookup per contig, not per row
    size = np.array([sizes.get(name, -1) for name in names], dtype=np.int64)[codes]
    keep = (df["start"].to_numpy(np.int64) >= 0) & (df["end"].to_numpy(np.int64) <= size)
    return df[keep].reset_index(drop=True), int((~keep).sum())


def _read_fai(fasta: Path) -> dict[str, tuple[int, int, int, int]]:
    entries = validated_index(fasta)  # checked against the FASTA: a stale .fai is rebuilt, never read
    assert entries is not None
    return entries


def read_chromosome(
    fasta_path: str | os.PathLike, chrom: str, entries: dict[str, tuple[int, int, int, int]] | None = None
) -> bytes:
    """Whole chromosome as uppercase ASCII bytes, read in one go through the .fai offsets."""
    fasta = Path(fasta_path)
    entries = entries if entries is not None else _read_fai(fasta)
    if chrom not in entries:
        raise InputError(f"contig {chrom!r} is not in the genome FASTA {fasta}")
    length, offset, line_bases, line_width = entries[chrom]
    n_full, rest = divmod(length, line_bases)
    n_bytes = n_full * line_width + rest
    with open(fasta, "rb") as handle:
        handle.seek(offset)
        raw = handle.read(n_bytes)
    seq = raw.replace(b"\n", b"").replace(b"\r", b"").upper()
    if len(seq) < length:
        raise InputError(f"{fasta}: sequence {chrom!r} is shorter than its index says; delete the .fai")
    return seq[:length]


def fetch_sequences(fasta_path: str | os.PathLike, df: pd.DataFrame) -> list[str]:
    """Uppercase sequences for every row, in row order; each chromosome is read once and sliced."""
    fasta = Path(fasta_path)
    entries = _read_fai(fasta)
    chroms = df["chrom"].to_numpy()
    starts = df["start"].to_numpy(np.int64)
    ends = df["end"].to_numpy(np.int64)
    out: list[str] = [""] * len(df)
    for chrom in _unique_in_order(chroms):
        seq = read_chromosome(fasta, chrom, entries).decode("ascii", errors="replace")
        rows = np.flatnonzero(chroms == chrom)
        if len(rows) and (starts[rows].min() < 0 or ends[rows].max() > len(seq)):
            raise InputError(f"a window on {chrom} falls outside the chromosome; call drop_off_chrom first")
        for i, s, e in zip(rows.tolist(), starts[rows].tolist(), ends[rows].tolist(), strict=True):
            out[i] = seq[s:e]
    return out


@functools.cache
def _window_kernel() -> Callable[..., None]:
    """The compiled gather-and-encode loop (numba, cached on disk; imported only when first needed)."""
    import numba

    @numba.njit(cache=True, nogil=True)
    def onehot_windows(fasta, packed, offset, line_bases, line_width, starts, rows, width, out):
        for i in range(rows.shape[0]):
            row = rows[i]
            line, col = divmod(starts[row], line_bases)
            pos = offset + line * line_width + col
            j = 0
            while j < width:  # one run per FASTA line the window touches
                run = min(width - j, line_bases - col)
                for t in range(run):
                    out[row, j + t] = packed[fasta[pos + t]]
                j += run
                pos += run + line_width - line_bases
                col = 0

    return onehot_windows


def fetch_onehot(fasta_path: str | os.PathLike, df: pd.DataFrame) -> np.ndarray:
    """uint8 one-hot (N, L, 4) of equal-width windows, read straight from the memory-mapped FASTA.

    No per-window strings and no whole-chromosome copies: a compiled loop walks each window's bytes
    run by run along the .fai line layout (line ends skipped) and stores each base's packed one-hot
    row (``onehot.PACKED``: either case; anything but ACGT all zeros), so only the pages under the
    windows are read and each output base is one 4-byte store.
    """
    fasta = Path(fasta_path)
    entries = _read_fai(fasta)
    chroms = df["chrom"].to_numpy()
    starts = df["start"].to_numpy(np.int64)
    widths = df["end"].to_numpy(np.int64) - starts
    if len(df) == 0:
        return np.zeros((0, 0, 4), dtype=np.uint8)
    if np.any(widths != widths[0]):
        raise ValueError("fetch_onehot needs windows of equal width")
    width = int(widths[0])
    out = np.empty((len(df), width), dtype="<u4")  # one packed one-hot row per base (onehot.PACKED)
    fasta_map = np.memmap(fasta, dtype=np.uint8, mode="r")
    kernel = _window_kernel()
    codes, names = pd.factorize(chroms)
    by_contig = np.argsort(codes, kind="stable")  # each contig's rows in row order, found in one sort
    bounds = np.searchsorted(codes[by_contig], np.arange(len(names) + 1))
    for index, chrom in enumerate(names):
        if chrom not in entries:
            raise InputError(f"contig {chrom!r} is not in the genome FASTA {fasta}")
        length, offset, line_bases, line_width = entries[chrom]
        n_full, rest = divmod(length, line_bases)
        if offset + n_full * line_width + rest > len(fasta_map):
            raise InputError(f"{fasta}: sequence {chrom!r} is shorter than its index says; delete the .fai")
        rows = by_contig[bounds[index] : bounds[index + 1]]
        if starts[rows].min() < 0 or starts[rows].max() + width > length:
            raise InputError(f"a window on {chrom} falls outside the chromosome; call drop_off_chrom first")
        kernel(fasta_map, onehot.PACKED, offset, line_bases, line_width, starts, rows, width, out)
    del fasta_map
    return out.view(np.uint8).reshape(len(df), width, 4)


def n_fraction(seqs: Sequence[str]) -> np.ndarray:
    """Fraction of positions per sequence that are not A/C/G/T."""
    if len(seqs) == 0:
        return np.zeros(0)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    valid = _VALID[np.frombuffer("".join(seqs).encode("ascii", errors="replace"), dtype=np.uint8)]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    called = np.add.reduceat(valid.astype(np.int64), bounds[:-1]) if valid.size else np.zeros(len(seqs))
    called = np.where(lengths > 0, called, 0)
    return 1.0 - called / np.maximum(lengths, 1)


def drop_n_rich(
    seqs: Sequence[str], df: pd.DataFrame, max_n_fraction: float
) -> tuple[list[str], pd.DataFrame, int]:
    """Drop sequences (and their rows) with more than ``max_n_fraction`` non-ACGT bases."""
    keep = n_fraction(seqs) <= max_n_fraction
    kept = [s for s, k in zip(seqs, keep.tolist(), strict=True) if k]
    return kept, df[keep].reset_index(drop=True), int((~keep).sum())


def _unique_in_order(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
