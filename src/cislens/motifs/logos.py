"""Sequence logos (logomaker) for PPMs and attribution maps, drawn without pyplot's global state."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from ..meme import Motif
from ..ppm import information

_KINDS = ("information", "probability", "weight")


def logo_heights(matrix: np.ndarray, kind: str = "information") -> np.ndarray:
    """Letter heights (W, 4): information = p x column bits; probability and weight are drawn as given."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != 4:
        raise InputError(f"logo needs a (W, 4) matrix, got {matrix.shape}")
    if kind == "information":
        return matrix * information(matrix)[:, None]
    if kind in ("probability", "weight"):
        return matrix
    raise InputError(f"logo kind must be one of {_KINDS}, got {kind!r}")


def plot_logo(matrix: np.ndarray, ax: Any, kind: str = "information", title: str | None = None) -> Any:
    """Draw one logo on ``ax``; returns the logomaker.Logo."""
    import logomaker

    frame = pd.DataFrame(logo_heights(matrix, kind), columns=list("ACGT"))
    logo = logomaker.Logo(frame, ax=ax, color_scheme="classic", font_name="DejaVu Sans")
    logo.style_spines(visible=False)
    logo.style_spines(spines=["left", "bottom"], visible=True)
    if kind == "information":
        ax.set_ylim(0, 2)
        ax.set_ylabel("bits")
    elif kind == "probability":
        ax.set_ylim(0, 1)
    if title:
        ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    return logo


def match_logo_grid(
    filters: Sequence[Motif],
    hits: pd.DataFrame,
    targets: Sequence[Motif],
    path: str | os.PathLike,
    ncols: int = 4,
    dpi: int = 100,
) -> None:
    """Every filter's logo above its best Tomtom match, aligned as Tomtom aligned them.

    ``hits`` is :func:`cislens.motifs.matching.best_hits` output. The target is drawn on the strand
    that matched; Tomtom's offset places the filter's first column ``offset`` columns right of the
    target's, so both share one x axis. Filters without a significant hit show their logo alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_query = {row.query_id: row for row in hits.itertuples()} if len(hits) else {}
    by_id = {m.id: m for m in targets}
    n = max(len(filters), 1)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.3 * nrows))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2 * nrows, ncols, hspace=0.9, wspace=0.3)
    for i in range(nrows * ncols):
        top, bottom = fig.add_subplot(grid[2 * (i // ncols), i % ncols]), None
        bottom = fig.add_subplot(grid[2 * (i // ncols) + 1, i % ncols])
        if i >= len(filters):
            top.axis("off")
            bottom.axis("off")
            continue
        motif = filters[i]
        hit = by_query.get(motif.id)
        target = by_id.get(hit.target_id) if hit is not None else None
        if target is None:
            plot_logo(motif.ppm, top, title=f"{motif.id} (n={motif.nsites}): no match")
            bottom.axis("off")
            continue
        ppm = target.ppm[::-1, ::-1] if hit.orientation == "-" else target.ppm
        offset = int(hit.offset)
        lo, hi = min(0, offset), max(len(ppm), offset + motif.width)
        _shifted_logo(motif.ppm, offset - lo, hi - lo, top)
        _shifted_logo(ppm, -lo, hi - lo, bottom)
        top.set_title(f"{motif.id} (n={motif.nsites})", fontsize=8)
        strand = " (rc)" if hit.orientation == "-" else ""
        bottom.set_title(f"{hit.target_name} {hit.target_id}{strand}, E={hit.e_value:.1e}", fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")


def _shifted_logo(ppm: np.ndarray, start: int, width: int, ax: Any) -> None:
    """Information logo of ``ppm`` placed from column ``start`` in a frame ``width`` columns wide."""
    frame = np.full((width, 4), 0.25)
    frame[start : start + len(ppm)] = ppm
    plot_logo(frame, ax)
    ax.set_ylabel("")
