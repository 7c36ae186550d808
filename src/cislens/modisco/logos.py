"""Discovered-pattern logos: each pattern's CWM and hypothetical CWM beside its best JASPAR match,
on one x axis as Tomtom aligned them (offset and strand)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..meme import Motif
from .discover import Pattern, trim_bounds

MAX_ROWS = 30  # patterns drawn; the table lists every one


def _framed(matrix: np.ndarray, start: int, width: int, fill: float) -> np.ndarray:
    frame = np.full((width, 4), fill)
    frame[start : start + len(matrix)] = matrix
    return frame


def pattern_logos(
    patterns: Sequence[Pattern],
    hits: pd.DataFrame,
    targets: Sequence[Motif],
    threshold: float,
    record: Mapping[str, Any],
    path: str | os.PathLike,
    dpi: int = 100,
) -> None:
    """One row per pattern: trimmed CWM, trimmed hypothetical CWM, best match (information logo)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..motifs.logos import plot_logo

    if not patterns:
        fig = Figure(figsize=(6, 0.8))
        FigureCanvasAgg(fig)
        fig.text(
            0.5,
            0.5,
            f"no patterns: {record.get('n_seqlets_called', 0)} seqlets called, none formed a pattern",
            ha="center",
            va="center",
        )
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
        return
    by_query = {row.query_id: row for row in hits.itertuples()} if len(hits) else {}
    by_id = {m.id: m for m in targets}
    shown = list(patterns)[:MAX_ROWS]
    fig = Figure(figsize=(13, 1.6 * len(shown)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(shown), 3, squeeze=False)
    for (cwm_ax, hcwm_ax, match_ax), pattern in zip(axes, shown, strict=True):
        lo, hi = trim_bounds(pattern.cwm, threshold)
        hit = by_query.get(pattern.name)
        target = by_id.get(hit.target_id) if hit is not None else None
        offset, start, width = 0, 0, hi - lo
        if target is not None:
            offset = int(hit.offset)
            start = min(0, offset)
            width = max(target.width, offset + (hi - lo)) - start
        here = offset - start
        plot_logo(_framed(pattern.cwm[lo:hi], here, width, 0.0), cwm_ax, kind="weight")
        plot_logo(_framed(pattern.hcwm[lo:hi], here, width, 0.0), hcwm_ax, kind="weight")
        cwm_ax.set_title(f"{pattern.name} ({pattern.n_seqlets} seqlets): CWM", fontsize=8, loc="left")
        hcwm_ax.set_title("hypothetical CWM", fontsize=8, loc="left")
        if target is None:
            match_ax.axis("off")
            match_ax.text(0.5, 0.5, "no significant JASPAR match", ha="center", va="center", fontsize=8)
            continue
        ppm = target.ppm[::-1, ::-1] if hit.orientation == "-" else target.ppm
        plot_logo(_framed(ppm, -start, width, 0.25), match_ax)
        strand = " (reverse complement)" if hit.orientation == "-" else ""
        match_ax.set_title(
            f"{hit.target_name} {hit.target_id}{strand}, q={hit.q_value:.1e}", fontsize=8, loc="left"
        )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
