"""Summaries of paired effects: one effect per background, f(embedded) - f(background)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

STAT_COLUMNS = ("effect_mean", "effect_sd", "ci95_low", "ci95_high", "n")


def summarise(effects: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean, sample sd and normal 95% CI of the mean along ``axis`` (the backgrounds).

    Effects are paired per background, so the CI is that of a mean of paired differences.
    """
    effects = np.asarray(effects, dtype=np.float64)
    n = effects.shape[axis]
    mean = effects.mean(axis=axis)
    if n > 1:
        sd = effects.std(axis=axis, ddof=1)
        half = 1.96 * sd / np.sqrt(n)
    else:
        sd = half = np.full_like(mean, np.nan)
    return {
        "effect_mean": mean,
        "effect_sd": sd,
        "ci95_low": mean - half,
        "ci95_high": mean + half,
        "n": np.full(mean.shape, n, dtype=np.int64),
    }


def tidy(
    conditions: Sequence[Mapping[str, Any]],
    tasks: Sequence[str],
    effects: np.ndarray,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per (condition, task) from effects (C, n, T): condition ``keys`` (default: the conditions'
    own keys; give them so an empty table still has its columns), task, then the statistics."""
    effects = np.asarray(effects, dtype=np.float64)
    if (
        effects.ndim != 3
        or effects.shape[0] != len(conditions)
        or (len(conditions) and effects.shape[2] != len(tasks))
    ):
        raise ValueError(
            f"effects {effects.shape} do not match {len(conditions)} conditions x {len(tasks)} tasks"
        )
    stats = summarise(effects, axis=1)  # each (C, T)
    keys = list(keys) if keys is not None else list(dict.fromkeys(k for c in conditions for k in c))
    rows: dict[str, Any] = {k: [c.get(k) for c in conditions for _ in tasks] for k in keys}
    rows["task"] = [str(t) for _ in conditions for t in tasks]
    for name in STAT_COLUMNS:
        rows[name] = stats[name].reshape(-1)
    return pd.DataFrame(rows, columns=[*keys, "task", *STAT_COLUMNS])


def rank_within(frame: pd.DataFrame, by: Sequence[str], value: str = "effect_mean") -> pd.Series:
    """Rank 1 = largest ``value`` within each ``by`` group (ties share the best rank)."""
    return frame.groupby(list(by), sort=False)[value].rank(ascending=False, method="min").astype(int)
