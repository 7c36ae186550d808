"""Negative (background) sequences: GC-matched genomic windows or dinucleotide shuffles of positives.

GC matching matters because a model can otherwise separate peaks from background by GC content alone
and never learn a motif; dinucleotide shuffles keep composition exactly and destroy motifs (the shuffle
itself, with its seed convention, is :func:`cislens.data.shuffle.dinuc_shuffled`).
"""

from __future__ import annotations

import bisect
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pybedtools

from ..errors import InputError
from .windows import fetch_sequences, n_fraction

N_GC_BINS = 20
_GC = np.zeros(256, dtype=np.int64)
_GC[np.frombuffer(b"CGcg", dtype=np.uint8)] = 1


def gc_fraction(seqs: Sequence[str]) -> np.ndarray:
    """GC fraction among called (ACGT) bases per sequence."""
    if len(seqs) == 0:
        return np.zeros(0)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    codes = np.frombuffer("".join(seqs).encode("ascii", errors="replace"), dtype=np.uint8)
    bounds = np.concatenate([[0], np.cumsum(lengths)])[:-1]
    gc = np.add.reduceat(_GC[codes], bounds)
    called = np.round(lengths * (1.0 - n_fraction(seqs)))
    return gc / np.maximum(called, 1)


def gc_bins(gc: np.ndarray, n_bins: int = N_GC_BINS) -> np.ndarray:
    """Bin index 0..n_bins-1 for GC fractions in [0, 1]."""
    return np.clip(np.floor(np.asarray(gc) * n_bins).astype(np.int64), 0, n_bins - 1)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to ``weights`` summing exactly to ``total``."""
    if weights.sum() == 0 or total == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def _bed(df: pd.DataFrame, path: Path) -> str:
    frame = df[["chrom", "start", "end"]].sort_values(["chrom", "start", "end"], kind="stable")
    frame.to_csv(path, sep="\t", header=False, index=False, lineterminator="\n")
    return str(path)


def _shuffle_candidates(
    positives: pd.DataFrame, sizes: dict[str, int], exclude: pd.DataFrame, copies: range, seed: int, tmp: Path
) -> pd.DataFrame:
    """Candidate windows from ``bedtools shuffle`` (same chromosome, no overlap with peaks or each other)."""
    genome_file = tmp / "genome.txt"
    if not genome_file.exists():
        with open(genome_file, "w") as handle:
            for chrom in sorted(set(positives["chrom"])):
                handle.write(f"{chrom}\t{sizes[chrom]}\n")
        _bed(
            pd.concat([exclude[["chrom", "start", "end"]], positives[["chrom", "start", "end"]]]),
            tmp / "exclude.bed",
        )
        _bed(positives, tmp / "source.bed")
    frames = []
    for copy in copies:
        out = tmp / f"shuffled_{copy}.bed"
        pybedtools.BedTool(str(tmp / "source.bed")).shuffle(
            g=str(genome_file),
            excl=str(tmp / "exclude.bed"),
            chrom=True,
            noOverlapping=True,
            seed=seed * 100_003 + copy,
            output=str(out),
        )
        if out.stat().st_size:
            frames.append(
                pd.read_csv(
                    out,
                    sep="\t",
                    header=None,
                    usecols=[0, 1, 2],
                    names=["chrom", "start", "end"],
                    dtype={0: str},
                )
            )
    if not frames:
        return pd.DataFrame(
            {"chrom": pd.Series([], dtype=str), "start": np.zeros(0, np.int64), "end": np.zeros(0, np.int64)}
        )
    return pd.concat(frames, ignore_index=True)


def gc_matched(
    peaks_windows_df: pd.DataFrame,
    fasta_path: str | os.PathLike,
    sizes: dict[str, int],
    n_per_peak: float = 1,
    seed: int = 0,
    exclude_df: pd.DataFrame | None = None,
    *,
    oversample: int = 5,
    max_rounds: int = 40,
    max_n_fraction: float = 0.1,
    n_bins: int = N_GC_BINS,
) -> pd.DataFrame:
    """Background windows of the positives' width whose GC histogram matches the positives'.

    Candidates come from ``bedtools shuffle`` of the positive windows (seeded, same chromosome, outside
    every peak in ``exclude_df`` and every positive window, candidates of one round never overlapping).
    Each GC bin (``n_bins`` over [0, 1]) takes its quota from the pool in seeded random order, refusing
    windows that overlap one already taken; while quotas are unmet, more rounds are shuffled (doubling,
    up to ``max_rounds`` per negative), then short bins borrow from the nearest bins. Chromosomes
    without positives get no negatives, so chromosome filters and splits carry over.
    """
    pos = peaks_windows_df
    widths = (pos["end"] - pos["start"]).unique()
    if len(widths) != 1:
        raise InputError("gc_matched needs windows of one width; call center_windows first")
    width = int(widths[0])
    n_total = round(n_per_peak * len(pos))
    if n_total == 0:
        return _frame(pos.iloc[:0], np.zeros(0), width)
    exclude = exclude_df if exclude_df is not None else pos
    per_round = max(1, math.ceil(n_per_peak))
    pos_gc = gc_fraction(fetch_sequences(fasta_path, pos))
    quota = _largest_remainder(np.bincount(gc_bins(pos_gc, n_bins), minlength=n_bins).astype(float), n_total)
    deficit = quota.copy()
    rng = np.random.default_rng(seed)
    pools: list[list[int]] = [[] for _ in range(n_bins)]
    all_cands: list[pd.DataFrame] = []
    all_gc: list[np.ndarray] = []
    taken: dict[str, list[int]] = {}
    chosen: list[int] = []
    chroms: list[str] = []
    starts: list[int] = []

    def take(b: int, want: int) -> int:
        got = 0
        pool = pools[b]
        while pool and got < want:
            i = pool.pop()
            occupied = taken.setdefault(chroms[i], [])
            j = bisect.bisect_left(occupied, starts[i])
            if (j < len(occupied) and occupied[j] - starts[i] < width) or (
                j > 0 and starts[i] - occupied[j - 1] < width
            ):
                continue
            occupied.insert(j, starts[i])
            chosen.append(i)
            got += 1
        return got

    done, rounds = 0, oversample
    with tempfile.TemporaryDirectory(prefix="cislens_neg_") as tmp:
        while True:
            batch = range(done * per_round, (done + rounds) * per_round)
            cands = _shuffle_candidates(pos, sizes, exclude, batch, seed, Path(tmp))
            done += rounds
            seqs = fetch_sequences(fasta_path, cands)
            ok = n_fraction(seqs) <= max_n_fraction
            cands = cands[ok].reset_index(drop=True)
            cand_gc = gc_fraction([s for s, k in zip(seqs, ok.tolist(), strict=True) if k])
            offset = len(chroms)
            chroms.extend(cands["chrom"].astype(str).tolist())
            starts.extend(cands["start"].astype(np.int64).tolist())
            all_cands.append(cands)
            all_gc.append(cand_gc)
            order = rng.permutation(len(cands))
            cand_bin = gc_bins(cand_gc, n_bins)
            for b in range(n_bins):
                # pop() takes from the end, so reverse to consume in permutation order.
                pools[b] = (order[cand_bin[order] == b] + offset).tolist()[::-1] + pools[b]
                deficit[b] -= take(b, int(deficit[b]))
            if not deficit.any() or done >= max_rounds:
                break
            rounds = min(done, max_rounds - done)
    short_before_borrowing = int(deficit.sum())
    for b in np.flatnonzero(deficit).tolist():
        for other in sorted(range(n_bins), key=lambda o, b=b: (abs(o - b), o)):
            deficit[b] -= take(other, int(deficit[b]))
            if deficit[b] == 0:
                break
    if len(chosen) < n_total:
        warnings.warn(
            f"gc_matched: only {len(chosen)} of {n_total} background windows found "
            f"(genome too small or too full of peaks)",
            stacklevel=2,
        )
    pool_df = pd.concat(all_cands, ignore_index=True)
    pool_gc = np.concatenate(all_gc)
    idx = np.sort(np.asarray(chosen, dtype=np.int64))
    out = _frame(pool_df.iloc[idx], pool_gc[idx], width)
    out.attrs["n_candidates"] = len(pool_df)
    out.attrs["gc_bin_shortfall"] = short_before_borrowing
    return out


def _frame(cands: pd.DataFrame, gc: np.ndarray, width: int) -> pd.DataFrame:
    chrom = cands["chrom"].astype(str).to_numpy()
    start = cands["start"].to_numpy(np.int64)
    end = cands["end"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "chrom": chrom.tolist(),
            "start": start,
            "end": end,
            "name": [
                f"bg:{c}:{s}-{e}"
                for c, s, e in zip(chrom.tolist(), start.tolist(), end.tolist(), strict=True)
            ],
            "score": np.zeros(len(start)),
            "summit": np.full(len(start), width // 2, dtype=np.int64),
            "gc": np.asarray(gc, dtype=np.float64),
        }
    )
    return out.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
