"""The original single-motif entry points of GIA.

Every experiment takes a *scorer*, a plain function from one-hot sequences (N, L, 4) to scores (N, T),
so the experiments are pure numpy and testable with any function; :func:`cislens.models.predict.scorer`
makes one from a Keras model (the one compiled forward). Global importance = mean over backgrounds of
f(embedded) - f(background).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models.predict import Model, scorer
from .importance import OCCUPANCY_COLUMNS, motif_importance
from .patterns import from_ppms

__all__ = ["OCCUPANCY_COLUMNS", "plot_occupancy", "single_motif_occupancy"]


def single_motif_occupancy(
    model: Model,
    backgrounds: np.ndarray,
    motifs: dict[str, np.ndarray],
    *,
    position: str | int = "center",
    task_names: Sequence[str],
    target: str = "logit",
    batch_size: int = 256,
) -> pd.DataFrame:
    """Effect of embedding each motif's consensus at one position, per motif and task.

    Rows are sorted by motif, then by effect (largest first), so a motif's own task leads its block.
    """
    if not (position == "center" or isinstance(position, int | np.integer)):
        raise InputError(f"position must be 'center' or an integer, got {position!r}")
    score = scorer(model, target, batch_size)
    return motif_importance(score, backgrounds, from_ppms(motifs), task_names, position=position)


def plot_occupancy(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Heat map motif x task of the mean effect (bars with 95% CIs for one task; a note when empty)."""
    from .plots import plot_occupancy as _plot

    _plot(df, path)
