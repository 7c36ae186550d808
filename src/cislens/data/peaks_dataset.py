"""Peak files + genome -> a labelled, split, one-hot Dataset (kind="peaks").

Labelling rule: every window is centred on one peak (its own task gets 1); another task gets 1 when
any of its peaks (original interval, after the chromosome filter) overlaps the window by >= 1 bp.
Identical windows from several files are merged into one row carrying all their labels.
Negatives are labelled 0 for every task.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from . import onehot
from .dataset import SPLITS, Dataset, Split
from .genome import check_contigs, chrom_sizes, ensure_fasta
from .negatives import gc_matched
from .peaks import read_peaks
from .shuffle import dinuc_shuffled
from .splits import chromosome_split, random_split
from .windows import (
    DEFAULT_EXCLUDE,
    center_windows,
    drop_off_chrom,
    fetch_onehot,
    filter_chroms,
)

NEGATIVE_MODES = ("gc_matched", "dinuc_shuffle", "none")


def overlaps_any(win: pd.DataFrame, peaks: pd.DataFrame) -> np.ndarray:
    """True where a window [start, end) overlaps at least one peak interval by >= 1 bp."""
    out = np.zeros(len(win), dtype=bool)
    for chrom, rows in win.groupby("chrom", sort=False).indices.items():
        chrom_peaks = peaks[peaks["chrom"] == chrom]
        if chrom_peaks.empty:
            continue
        order = np.argsort(chrom_peaks["start"].to_numpy(np.int64), kind="stable")
        p_start = chrom_peaks["start"].to_numpy(np.int64)[order]
        max_end = np.maximum.accumulate(chrom_peaks["end"].to_numpy(np.int64)[order])
        w_start = win["start"].to_numpy(np.int64)[rows]
        w_end = win["end"].to_numpy(np.int64)[rows]
        last = np.searchsorted(p_start, w_end, side="left") - 1  # last peak starting before window end
        out[rows] = (last >= 0) & (max_end[np.maximum(last, 0)] > w_start)
    return out


def read_planted(path: str | os.PathLike) -> pd.DataFrame:
    """Planted sites BED: chrom, start, end, motif name, score, strand."""
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            header=None,
            comment="#",
            usecols=range(6),
            names=["chrom", "start", "end", "motif", "score", "strand"],
            dtype={"chrom": str, "motif": str, "strand": str},
        )
    except (OSError, ValueError) as err:
        raise InputError(
            f"{path}: cannot read planted-sites BED (chrom start end motif score strand): {err}"
        ) from None
    return frame


def truth_matrices(
    win: pd.DataFrame,
    planted: pd.DataFrame,
    motifs: dict[str, np.ndarray],
    shuffled: np.ndarray | None = None,
    source: str = "planted sites",
) -> np.ndarray:
    """(N, L, 4) float32 ground truth for '+'-strand windows: 0.25 background, planted PPMs at their sites.

    Sites on '-' are written reverse-complemented; sites are clipped to the window. Rows flagged in
    ``shuffled`` stay background (shuffling destroyed the sites).
    """
    n = len(win)
    length = int((win["end"] - win["start"]).iloc[0]) if n else 0
    truth = np.full((n, length, 4), 0.25, dtype=np.float32)
    if n == 0 or planted.empty:
        return truth
    unknown = sorted(set(planted["motif"]) - set(motifs))
    if unknown:
        raise InputError(f"{source}: motif {unknown[0]!r} has no PPM among {sorted(motifs)}")
    ppms = {name: np.asarray(ppm, dtype=np.float32) for name, ppm in motifs.items()}
    max_w = int((planted["end"] - planted["start"]).max())
    for chrom, rows in win.groupby("chrom", sort=False).indices.items():
        sites = planted[planted["chrom"] == chrom].sort_values("start", kind="stable")
        if sites.empty:
            continue
        s_start = sites["start"].to_numpy(np.int64)
        s_end = sites["end"].to_numpy(np.int64)
        s_motif = sites["motif"].tolist()
        s_strand = sites["strand"].tolist()
        for row in rows.tolist():
            if shuffled is not None and shuffled[row]:
                continue
            w0 = int(win["start"].iat[row])
            lo = np.searchsorted(s_start, w0 - max_w, side="left")
            hi = np.searchsorted(s_start, w0 + length, side="left")
            for k in range(lo, hi):
                if s_end[k] <= w0:
                    continue
                ppm = ppms[s_motif[k]]
                if len(ppm) != s_end[k] - s_start[k]:
                    raise InputError(
                        f"{source}: site {chrom}:{s_start[k]}-{s_end[k]} is "
                        f"{s_end[k] - s_start[k]} bp but motif {s_motif[k]!r} is {len(ppm)} bp"
                    )
                if s_strand[k] == "-":
                    ppm = ppm[::-1, ::-1]
                offset = int(s_start[k]) - w0
                a, b = max(0, offset), min(length, offset + len(ppm))
                truth[row, a:b] = ppm[a - offset : b - offset]
    return truth


def genomic_order(df: pd.DataFrame) -> np.ndarray:
    """Row order by chrom, start, end, then name: the one deterministic order every output uses."""
    return np.lexsort(
        (
            df["name"].to_numpy(str),
            df["end"].to_numpy(np.int64),
            df["start"].to_numpy(np.int64),
            df["chrom"].to_numpy(str),
        )
    )


def _merge_duplicates(win: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Collapse identical windows, OR-ing their labels; keep the alphabetically first name."""
    order = genomic_order(win)
    win = win.iloc[order].reset_index(drop=True)
    labels = labels[order]
    key = win["chrom"].astype(str) + ":" + win["start"].astype(str) + "-" + win["end"].astype(str)
    group = pd.factorize(key)[0]
    merged = np.zeros((group.max() + 1 if len(group) else 0, labels.shape[1]), dtype=labels.dtype)
    np.maximum.at(merged, group, labels)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, int)
    return win.iloc[first].reset_index(drop=True), merged, int(len(win) - len(first))


def build_peaks_dataset(
    peak_files: dict[str, str],
    genome: str,
    workdir: str,
    *,
    width: int = 200,
    center: str = "summit",
    max_n_fraction: float = 0.1,
    exclude_chroms: str | None = DEFAULT_EXCLUDE,
    negatives: str = "gc_matched",
    negative_ratio: float = 1.0,
    reverse_complement: bool = False,
    valid_chroms: Sequence[str] = (),
    test_chroms: Sequence[str] = (),
    seed: int = 0,
    truth: tuple[str, dict[str, np.ndarray]] | None = None,
    signal: dict[str, str] | None = None,
    signal_target: dict[str, Any] | None = None,
    exclude_regions: Sequence[str] = (),
) -> Dataset:
    """Build the multi-task peaks Dataset; byte-identical for the same inputs and seed.

    ``signal`` ({task: bigWig}) makes the targets quantitative (:mod:`.signal`; ``signal_target``: stat,
    width, log1p, normalise) over the union of the peak windows and the negatives; ``exclude_regions``
    (BED files: the ENCODE blacklist) drops every window and negative overlapping them, counted.
    """
    if not peak_files:
        raise InputError("no peak files given")
    if negatives not in NEGATIVE_MODES:
        raise InputError(f"negatives must be one of {NEGATIVE_MODES}, got {negatives!r}")
    if negative_ratio < 0:
        raise InputError(f"negative_ratio must be >= 0, got {negative_ratio}")
    if signal and negatives == "dinuc_shuffle":
        raise InputError("negatives: dinuc_shuffle has no genomic signal; use gc_matched or none with signal")
    both = sorted(set(valid_chroms) & set(test_chroms))
    if both:
        raise InputError(f"chromosome(s) {', '.join(both)} listed in both valid_chroms and test_chroms")
    tasks = list(peak_files)
    summary: dict[str, Any] = {
        "tasks": tasks,
        "width": width,
        "center": center,
        "negatives": negatives,
        "negative_ratio": negative_ratio,
        "reverse_complement": reverse_complement,
        "seed": seed,
    }
    raw = {task: read_peaks(path) for task, path in peak_files.items()}
    summary["peaks_read"] = {task: len(df) for task, df in raw.items()}
    excluded = _read_regions(exclude_regions)

    fasta = ensure_fasta(genome, workdir)
    sizes = chrom_sizes(fasta)
    kept: dict[str, pd.DataFrame] = {}
    summary["dropped_excluded_chroms"] = {}
    for task, df in raw.items():
        kept[task], n_dropped = filter_chroms(df, exclude_chroms)
        summary["dropped_excluded_chroms"][task] = n_dropped
        check_contigs(kept[task], sizes, source=str(peak_files[task]), fasta=genome)

    frames = []
    for t, task in enumerate(tasks):
        win = center_windows(kept[task], width, center)
        win["task"] = t
        frames.append(win[["chrom", "start", "end", "name", "task"]])
    win = pd.concat(frames, ignore_index=True)
    win, summary["dropped_off_chrom"] = drop_off_chrom(win, sizes)
    if excluded is not None:
        hit = overlaps_any(win, excluded)
        win, summary["dropped_excluded_regions"] = win[~hit].reset_index(drop=True), int(hit.sum())
    labels = np.zeros((len(win), len(tasks)), dtype=np.float32)
    labels[np.arange(len(win)), win["task"].to_numpy()] = 1
    for t, task in enumerate(tasks):
        labels[overlaps_any(win, kept[task]), t] = 1
    win, labels, summary["duplicates_merged"] = _merge_duplicates(win, labels)
    x_pos = fetch_onehot(fasta, win)
    keep = 1.0 - x_pos.sum(axis=(1, 2)) / width <= max_n_fraction  # N (all-zero) columns per window
    x_pos, labels, win = x_pos[keep], labels[keep], win[keep].reset_index(drop=True)
    summary["dropped_n_rich"] = int((~keep).sum())
    if len(win) == 0:
        raise InputError(f"no peak windows left after filtering ({summary})")
    summary["positives"] = len(win)
    summary["multi_label_windows"] = int((labels.sum(axis=1) > 1).sum())

    neg, x_neg = _make_negatives(
        negatives, negative_ratio, win, x_pos, fasta, sizes, raw, seed, max_n_fraction, summary, excluded
    )
    if excluded is not None and len(neg):
        hit = overlaps_any(neg, excluded)  # gc_matched negatives avoid them already: a guard
        neg, x_neg = neg[~hit].reset_index(drop=True), x_neg[~hit]
        summary["dropped_excluded_negatives"] = int(hit.sum())
    rows = pd.concat([win[["chrom", "start", "end", "name"]].assign(shuffled=False), neg], ignore_index=True)
    y = np.concatenate([labels, np.zeros((len(neg), len(tasks)), dtype=np.float32)])
    order = genomic_order(rows)
    rows = rows.iloc[order].reset_index(drop=True)
    y = y[order]
    x_all = np.concatenate([x_pos, x_neg])[order]

    truth_all = None
    if truth is not None:
        planted_path, motifs = truth
        truth_all = truth_matrices(
            rows,
            read_planted(planted_path),
            motifs,
            shuffled=rows["shuffled"].to_numpy(bool),
            source=str(planted_path),
        )
    if valid_chroms or test_chroms:
        index = chromosome_split(rows["chrom"].to_numpy(str), list(valid_chroms), list(test_chroms))
    else:
        index = random_split(len(rows), seed=seed)
    if signal:
        y, tasks = _signal_targets(signal, signal_target or {}, rows, index["train"], summary), list(signal)
        summary["peak_sets"] = summary["tasks"]  # the regions come from the peak sets ...
        summary["tasks"] = tasks  # ... the targets from the tracks
    splits = {}
    for name in SPLITS:
        idx = index[name]
        split = Split(
            x=x_all[idx].reshape(len(idx), width, 4),
            y=y[idx].reshape(len(idx), len(tasks)),
            truth=None if truth_all is None else truth_all[idx].reshape(len(idx), width, 4),
            chrom=rows["chrom"].to_numpy(str)[idx],
            start=rows["start"].to_numpy(np.int64)[idx],
            end=rows["end"].to_numpy(np.int64)[idx],
            strand=np.full(len(idx), "+"),
            name=rows["name"].to_numpy(str)[idx],
        )
        splits[name] = _with_reverse_complement(split) if reverse_complement else split
    summary["split_sizes"] = {name: len(s) for name, s in splits.items()}
    summary["split_positives"] = {
        name: int((s.y.max(axis=1) > 0).sum()) if len(s) else 0 for name, s in splits.items()
    }
    summary["split_chroms"] = {name: sorted(set(s.chrom.tolist())) for name, s in splits.items()}
    source = ", ".join(str(p) for p in peak_files.values())
    if signal:
        summary["task_type"] = "regression"
        check_nonempty(splits, source)
    else:
        summary["single_class_tasks"] = check_splits(splits, tasks, source=source)
    return Dataset(splits=splits, tasks=tasks, kind="peaks", seed=seed, summary=summary)


def _read_regions(paths: Sequence[str]) -> pd.DataFrame | None:
    """The union of the exclusion BED files (chrom, start, end), or None without any."""
    if not paths:
        return None
    frames = [read_peaks(path)[["chrom", "start", "end"]] for path in paths]
    return pd.concat(frames, ignore_index=True)


def _signal_targets(
    signal: dict[str, str],
    settings: dict[str, Any],
    rows: pd.DataFrame,
    train: np.ndarray,
    summary: dict[str, Any],
) -> np.ndarray:
    """(N, tracks) targets of every row (positives and negatives), normalised on the train rows; a
    track lacking a contig of the rows fails in one line (:func:`.signal.check_contigs`)."""
    from .. import schema
    from .signal import normalise, signal_matrix

    settings = {**schema.defaults("definitions", "signal_target"), **settings}
    stat, width = str(settings["stat"]), settings["width"]
    raw = signal_matrix(signal, rows, stat, width)
    y, stats = normalise(raw, train, bool(settings["log1p"]), str(settings["normalise"]), list(signal))
    summary["signal"] = {
        task: {"path": str(path), "stat": stat, "width": width, **stats[task]}
        for task, path in signal.items()
    }
    return y


def check_nonempty(splits: dict[str, Split], source: str) -> None:
    """Fail when a split is empty (a hold-out naming no contig with windows)."""
    for name, split in splits.items():
        if len(split) == 0:
            raise InputError(f"{source}: the {name} split is empty (check valid_chroms/test_chroms)")


def check_splits(splits: dict[str, Split], tasks: list[str], source: str) -> list[str]:
    """Fail when a split is empty or no task has both classes in train: training, early stopping
    and test metrics would be silently meaningless. Returns the tasks with a single class."""
    check_nonempty(splits, source)
    y = np.asarray(splits["train"].y)
    single = [task for t, task in enumerate(tasks) if len(np.unique(y[:, t])) < 2]
    if len(single) == len(tasks):
        raise InputError(f"{source}: no task has both classes in the train split (negatives: none?)")
    return single


def _make_negatives(
    mode: str,
    ratio: float,
    win: pd.DataFrame,
    x_pos: np.ndarray,
    fasta: Path,
    sizes: dict[str, int],
    raw: dict[str, pd.DataFrame],
    seed: int,
    max_n_fraction: float,
    summary: dict[str, Any],
    excluded: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Negative rows (chrom, start, end, name, shuffled) and their uint8 one-hot windows; gc_matched
    negatives avoid every peak and the ``excluded`` regions."""
    empty = pd.DataFrame(
        {
            "chrom": pd.Series([], dtype=str),
            "start": np.zeros(0, np.int64),
            "end": np.zeros(0, np.int64),
            "name": pd.Series([], dtype=str),
            "shuffled": np.zeros(0, bool),
        }
    )
    n_total = round(ratio * len(win))
    if mode == "none" or n_total == 0:
        summary["negatives_made"] = 0
        return empty, np.zeros((0, *x_pos.shape[1:]), dtype=np.uint8)
    if mode == "gc_matched":
        avoid = [df[["chrom", "start", "end"]] for df in raw.values()]
        exclude = pd.concat(avoid + ([excluded] if excluded is not None else []), ignore_index=True)
        exclude = exclude[exclude["chrom"].isin(list(sizes))]
        neg = gc_matched(win, fasta, sizes, ratio, seed, exclude, max_n_fraction=max_n_fraction)
        x_neg = fetch_onehot(fasta, neg)
        summary["negatives_made"] = len(neg)
        summary["negative_candidates"] = int(neg.attrs.get("n_candidates", 0))
        summary["negative_gc_bin_shortfall"] = int(neg.attrs.get("gc_bin_shortfall", 0))
        return neg[["chrom", "start", "end", "name"]].assign(shuffled=False), x_neg
    k = max(1, math.ceil(ratio))
    shuffles = dinuc_shuffled(onehot.decode(x_pos), k, seed)
    src = np.repeat(np.arange(len(win)), k)
    copy = np.tile(np.arange(k), len(win))
    if n_total < len(shuffles):
        pick = np.sort(np.random.default_rng(seed).choice(len(shuffles), n_total, replace=False))
        src, copy, shuffles = src[pick], copy[pick], [shuffles[i] for i in pick.tolist()]
    names = win["name"].to_numpy(str)[src]
    neg = pd.DataFrame(
        {
            "chrom": win["chrom"].to_numpy(str)[src].tolist(),
            "start": win["start"].to_numpy(np.int64)[src],
            "end": win["end"].to_numpy(np.int64)[src],
            "name": [f"{n}_shuf{c}" for n, c in zip(names.tolist(), copy.tolist(), strict=True)],
            "shuffled": np.ones(len(src), dtype=bool),
        }
    )
    summary["negatives_made"] = len(neg)
    return neg, onehot.one_hot(shuffles, dtype=np.uint8)


def _with_reverse_complement(split: Split) -> Split:
    """Append every row's reverse complement (strand '-'); labels and coordinates are shared."""

    def twice(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.concatenate([a, a])

    return Split(
        x=np.concatenate([split.x, onehot.reverse_complement(split.x)]),
        y=twice(split.y),
        truth=None
        if split.truth is None
        else np.concatenate([split.truth, onehot.reverse_complement(split.truth)]),
        chrom=twice(split.chrom),
        start=twice(split.start),
        end=twice(split.end),
        strand=np.concatenate([split.strand, np.full(len(split), "-")]),
        name=twice(split.name),
    )
