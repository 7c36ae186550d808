"""TF-MoDISco through modisco-lite: seqlets called on hypothetical contributions, clustered into
patterns (Shrikumar et al. 2018, arXiv:1811.00416). This module maps the workflow's settings onto
modisco-lite's, guards its inputs (it crashes on NaN or all-zero maps), writes its own HDF5 layout
(so ``modisco report`` and ``modisco meme`` read our files) and reads that layout back as plain arrays.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path

# Our setting -> modisco-lite's TFMoDISco keyword (defaults live in the workflow schema).
MODISCO_KEYWORDS = {
    "max_seqlets": "max_seqlets_per_metacluster",
    "sliding_window": "sliding_window_size",
    "flank": "flank_size",
    "target_fdr": "target_seqlet_fdr",
    "n_leiden": "n_leiden_runs",
    "trim_size": "trim_to_window_size",
    "initial_flank": "initial_flank_to_add",
    "final_flank": "final_flank_to_add",
    "min_metacluster_size": "min_metacluster_size",
    "min_cluster_size": "final_min_cluster_size",
}
METACLUSTERS = ("pos_patterns", "neg_patterns")
SEQLET_COLUMNS = ["pattern", "example_idx", "start", "end", "strand", "core_start", "core_end"]


@dataclass
class Pattern:
    """One TF-MoDISco pattern as arrays: name ``pos_patterns.pattern_0`` (modisco-lite's own naming)."""

    name: str
    ppm: np.ndarray  # (W, 4) base frequencies of the aligned seqlets
    cwm: np.ndarray  # (W, 4) contribution weight matrix (hypothetical x one-hot, averaged)
    hcwm: np.ndarray  # (W, 4) hypothetical CWM
    example_idx: np.ndarray
    start: np.ndarray
    end: np.ndarray
    is_revcomp: np.ndarray

    @property
    def sign(self) -> int:
        return 1 if self.name.startswith("pos") else -1

    @property
    def n_seqlets(self) -> int:
        return len(self.example_idx)


def check_inputs(x: np.ndarray, hyp: np.ndarray) -> None:
    """One line for inputs modisco-lite would crash on or misread."""
    if x.ndim != 3 or x.shape[-1] != 4 or hyp.shape != x.shape:
        raise InputError(
            f"modisco needs one-hot and contributions shaped (N, L, 4); got {x.shape}, {hyp.shape}"
        )
    if not np.isfinite(hyp).all():
        raise InputError("modisco: hypothetical contributions hold NaN or inf (a diverged model?)")


def crop(x: np.ndarray, window: int | None) -> tuple[np.ndarray, int]:
    """The centred ``window`` of every sequence (the whole sequence when None or longer), and its offset."""
    length = x.shape[1]
    if not window or window >= length:
        return x, 0
    start = (length - int(window)) // 2
    return x[:, start : start + int(window)], start


def start_compiling() -> None:
    """Compile modisco-lite's numba kernels into numba's cache in forked children, now: they fork only
    while this process runs no other threads, so a job calls this before TensorFlow starts its pools
    (else every job compiles every kernel in turn, about 13 s on 2 cores)."""
    from modiscolite import precompile

    precompile.start()


@dataclass
class Discovery:
    """modisco-lite's positive and negative SeqletSets (lists, possibly empty), the crop offset and
    how many seqlets were called before clustering (what an empty result is reported with)."""

    pos: list
    neg: list
    offset: int
    n_called: int


def discover(x: np.ndarray, hyp: np.ndarray, settings: Mapping[str, Any]) -> Discovery:
    """Run TF-MoDISco. Fewer seqlets than a metacluster needs, maps without variation, or sequences
    shorter than a seqlet are results (no patterns), not errors."""
    from modiscolite.extract_seqlets import extract_seqlets
    from modiscolite.tfmodisco import TFMoDISco

    check_inputs(x, hyp)
    x, offset = crop(np.asarray(x, dtype=np.float32), settings.get("window"))
    hyp, _ = crop(np.asarray(hyp, dtype=np.float32), settings.get("window"))
    window, flank = int(settings["sliding_window"]), int(settings["flank"])
    if len(x) == 0 or not np.any(hyp) or x.shape[1] <= window + 2 * flank:
        return Discovery([], [], offset, 0)
    kwargs = {MODISCO_KEYWORDS[key]: settings[key] for key in MODISCO_KEYWORDS}
    pos, neg = TFMoDISco(one_hot=x, hypothetical_contribs=hyp, verbose=False, **kwargs)
    # The seqlets TF-MoDISco called (its own call, its own defaults), counted for the report: after
    # TFMoDISco, whose numba kernels compile into the cache in forked children only while no threads run.
    defaults = {k: v.default for k, v in inspect.signature(TFMoDISco).parameters.items()}
    coords, _ = extract_seqlets(
        attribution_scores=(x * hyp).sum(axis=2),
        window_size=window,
        flank=flank,
        suppress=int(0.5 * window) + flank,
        target_fdr=float(settings["target_fdr"]),
        min_passing_windows_frac=defaults["min_passing_windows_frac"],
        max_passing_windows_frac=defaults["max_passing_windows_frac"],
        weak_threshold_for_counting_sign=defaults["weak_threshold_for_counting_sign"],
    )
    return Discovery(list(pos or []), list(neg or []), offset, len(coords))


def save(path: str | os.PathLike, pos: list, neg: list, window_size: int) -> None:
    """modisco-lite's own HDF5 layout (``modisco report``/``meme`` read it), written atomically."""
    import modiscolite

    with atomic_path(path) as tmp:
        modiscolite.io.save_hdf5(str(tmp), pos, neg, int(window_size))
        with h5py.File(tmp, "a") as handle:  # reopened: save_hdf5 leaves closing to the collector
            handle.attrs["cislens_format"] = 1


def read(path: str | os.PathLike) -> list[Pattern]:
    """Every pattern of a modisco-lite HDF5 file, positive metacluster first, in pattern order."""
    patterns = []
    with h5py.File(path, "r") as handle:
        for group in METACLUSTERS:
            if group not in handle:
                continue
            for name in sorted(handle[group], key=lambda s: int(s.rsplit("_", 1)[-1])):
                node, seqlets = handle[group][name], handle[group][name]["seqlets"]
                patterns.append(
                    Pattern(
                        name=f"{group}.{name}",
                        ppm=node["sequence"][:],
                        cwm=node["contrib_scores"][:],
                        hcwm=node["hypothetical_contribs"][:],
                        example_idx=seqlets["example_idx"][:].astype(np.int64),
                        start=seqlets["start"][:].astype(np.int64),
                        end=seqlets["end"][:].astype(np.int64),
                        is_revcomp=seqlets["is_revcomp"][:].astype(bool),
                    )
                )
    return patterns


def trim_bounds(cwm: np.ndarray, threshold: float) -> tuple[int, int]:
    """[start, stop) of the columns from the first to the last whose total |CWM| reaches ``threshold``
    of the largest (modisco's report trims the same way)."""
    score = np.abs(np.asarray(cwm)).sum(axis=1)
    if score.max() <= 0:
        return 0, len(score)
    keep = np.flatnonzero(score >= threshold * score.max())
    return int(keep[0]), int(keep[-1]) + 1


def seqlet_table(patterns: Sequence[Pattern], threshold: float, offset: int = 0) -> pd.DataFrame:
    """One row per seqlet: its sequence, span and strand in the uncropped sequence, and the span of the
    pattern's trimmed core inside it (on the reverse strand the core is mirrored)."""
    frames = []
    for pattern in patterns:
        lo, hi = trim_bounds(pattern.cwm, threshold)
        width = pattern.end - pattern.start
        start = pattern.start + offset
        core_start = np.where(pattern.is_revcomp, start + width - hi, start + lo)
        frames.append(
            pd.DataFrame(
                {
                    "pattern": pattern.name,
                    "example_idx": pattern.example_idx,
                    "start": start,
                    "end": pattern.end + offset,
                    "strand": np.where(pattern.is_revcomp, "-", "+"),
                    "core_start": core_start,
                    "core_end": core_start + (hi - lo),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("pattern", "strand") else np.int64) for c in SEQLET_COLUMNS}
        )
    return pd.concat(frames, ignore_index=True)[SEQLET_COLUMNS]
